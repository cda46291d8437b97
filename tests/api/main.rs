//! Integration tests over HTTP against the real router on a random port.

mod helpers;

mod crash;
mod errors;
mod evaluations;
mod openapi;
mod operations;
mod questionnaire;
mod rules_check;
mod screenings;
