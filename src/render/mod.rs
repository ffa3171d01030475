//! Renderers of user-visible text.

pub mod export;
pub mod regions;
