//! Renderers of user-visible text.

pub mod regions;
pub mod report_fmt;
pub mod report_json;
pub mod report_markdown;
pub mod report_text;
pub mod table;
