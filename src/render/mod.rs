//! Renderers of user-visible text.

pub mod dot;
pub mod export;
pub mod html;
pub mod mermaid;
pub mod regions;
