//! Renderers of user-visible text.

pub mod dashboard;
pub mod dot;
pub mod export;
pub mod html;
pub mod mermaid;
pub mod regions;
pub mod report_fmt;
pub mod report_json;
pub mod report_markdown;
pub mod report_text;
pub mod table;
