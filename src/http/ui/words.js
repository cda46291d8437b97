// The words for codes come from the server (the rule set's outcome labels,
// the record's review reasons, in the page's JSON data island); only the
// icons are the page's own. Icons are from fonts every system has (DejaVu):
// color is never the only signal.
const WORDS = JSON.parse(document.getElementById("words").textContent);
const ICONS = {
  urgent_evaluation: "⚠",
  unlikely_candidate: "✖",
  not_yet_eligible: "◔",
  needs_more_information: "ℹ",
  needs_diagnostic_block: "➜",
  likely_candidate: "✔",
};
export const OUTCOMES = Object.fromEntries(Object.entries(WORDS.outcomes).map(([code, label]) => [code, { icon: ICONS[code] || "•", label }]));
export const REASONS = WORDS.review_reasons;
