//! The profiles of parameters.yaml: each sets every declared parameter and
//! nothing else, and the one in use gives the rules their numbers.

use std::collections::BTreeMap;

use super::FILES;
use super::template::COUNTS;
use super::yaml::ParametersFile;
use crate::problem_list::{Problem, Problems};

/// The values of `profile`, after checking every profile of the file.
pub(super) fn check_parameters(
    p: &ParametersFile,
    profile: &str,
    problems: &mut Problems,
) -> BTreeMap<String, f64> {
    let file = FILES[2];
    if !p.profiles.contains_key(&p.default_profile) {
        problems.push(Problem::in_file(
            file,
            format!("default_profile `{}` is not a profile", p.default_profile),
        ));
    }
    for name in COUNTS {
        if p.parameters.contains_key(name) {
            problems.push(Problem::at(
                file,
                format!("parameter {name}"),
                format!(
                    "`{name}` is a count filled from the answers: name the parameter otherwise"
                ),
            ));
        }
    }
    for (name, prof) in &p.profiles {
        for key in p.parameters.keys() {
            if !prof.values.contains_key(key) {
                problems.push(Problem::at(
                    file,
                    format!("profile {name}"),
                    format!("does not set parameter `{key}`"),
                ));
            }
        }
        for key in prof.values.keys() {
            if !p.parameters.contains_key(key) {
                problems.push(Problem::at(
                    file,
                    format!("profile {name}"),
                    format!("sets `{key}`, which is not declared under parameters"),
                ));
            }
        }
    }
    match p.profiles.get(profile) {
        Some(prof) => prof.values.clone(),
        None => {
            let names: Vec<&str> = p.profiles.keys().map(String::as_str).collect();
            problems.push(Problem::in_file(
                file,
                format!("no profile `{profile}` (profiles: {})", names.join(", ")),
            ));
            // Check the rules against the declared names all the same.
            p.parameters.keys().map(|k| (k.clone(), 0.0)).collect()
        }
    }
}
