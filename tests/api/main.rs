//! Integration tests over HTTP against the real router on a random port.

mod helpers;
mod hostile;
mod impact;

mod auth;
mod authoring;
mod backup;
mod binary;
mod cds;
mod concurrency;
mod cors;
mod crash;
mod documents;
mod errors;
mod evaluations;
mod export;
mod fhir;
mod first_key;
mod keys;
mod log_stall;
mod logs;
mod metrics;
mod openapi;
mod operations;
mod preconditions;
mod questionnaire;
mod reload;
mod restore;
mod rules_check;
mod screenings;
mod show_when;
mod shutdown;
mod soak;
mod stats;
mod unit_file;
mod words;
