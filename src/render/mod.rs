//! Renderers of user-visible text.

pub mod regions;
pub mod table;
