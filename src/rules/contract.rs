//! The criteria of the published contract (questionnaire v1): every one must
//! have a rule with this effect, and `required` where the contract says
//! "require". Clinics integrate against these codes.

use super::Effect;

pub struct Criterion {
    pub code: &'static str,
    pub effect: Effect,
    pub required: bool,
}

const fn c(code: &'static str, effect: Effect, required: bool) -> Criterion {
    Criterion {
        code,
        effect,
        required,
    }
}

pub const CRITERIA_V1: &[Criterion] = &[
    c("RF_CAUDA_EQUINA", Effect::Urgent, true),
    c("RF_NEURO_DEFICIT", Effect::Urgent, true),
    c("RF_INFECTION", Effect::Urgent, true),
    c("RF_MALIGNANCY", Effect::Urgent, true),
    c("RF_FRACTURE", Effect::Urgent, true),
    c("ADULT", Effect::Exclude, true),
    c("LOW_BACK_PAIN", Effect::Exclude, true),
    c("AXIAL_PAIN", Effect::Exclude, true),
    c("ALTERNATIVE_DIAGNOSIS", Effect::Exclude, true),
    c("PRIOR_FUSION", Effect::Exclude, false),
    // Contract v1.1 §6: an incomplete listed block could be a negative one,
    // so its unknown answers hold the outcome (the effect is unchanged).
    c("BLOCK_NEGATIVE", Effect::Exclude, true),
    c("CHRONIC_PAIN", Effect::Defer, true),
    c("PAIN_SEVERITY", Effect::Defer, true),
    c("FUNCTIONAL_IMPAIRMENT", Effect::Defer, true),
    c("RADICULOPATHY", Effect::Defer, true),
    c("PT_FAILED", Effect::Defer, true),
    c("MEDICATIONS_FAILED", Effect::Defer, true),
    c("STEROID_INJECTIONS_FAILED", Effect::Defer, true),
    c("CONSERVATIVE_CARE_DURATION", Effect::Defer, true),
    c("IMAGING_DONE", Effect::Require, true),
    c("PREGNANCY", Effect::Defer, true),
    c("ACTIVE_INFECTION", Effect::Defer, false),
    c("BLEEDING_DISORDER", Effect::Defer, false),
    c("ANESTHESIA_UNFIT", Effect::Defer, false),
    c("DUAL_BLOCK", Effect::Block, true),
    c("ANTICOAGULATION", Effect::Caution, false),
    c("ANESTHESIA_RISK", Effect::Caution, false),
    c("BMI_HIGH", Effect::Caution, false),
    c("MULTI_LEVEL", Effect::Caution, false),
    c("ESCORT", Effect::Caution, false),
    c("REFERRAL", Effect::Caution, false),
    c("FACET_SIGNS", Effect::Supports, false),
];

/// The contract's criteria for a questionnaire version, if it has one.
pub fn criteria(questionnaire_version: &str) -> Option<&'static [Criterion]> {
    (questionnaire_version == "1").then_some(CRITERIA_V1)
}
