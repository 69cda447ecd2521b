//! The core for the browser page: each export takes and returns JSON text,
//! so the page's JavaScript and the core share no other types. No Workload
//! ID logic lives here; the answers are the ones `kubectl wi` prints.
//!
//! Built twice: with `page` (the default) as the module the page loads
//! first, and with `explain` alone as the module its token pane loads when
//! first used, so explaining tokens costs the generator nothing.

#[cfg(feature = "explain")]
mod explain;
#[cfg(feature = "page")]
mod page;
