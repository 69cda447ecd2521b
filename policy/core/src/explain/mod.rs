//! The run-time half of the workflow: what an `AADSTS` error means, and
//! why a projected token does (not) match a federated credential.

pub mod aadsts;
pub mod token;
