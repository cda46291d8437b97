// The intake form's state, shared by the form's modules: null when no form
// is open, else { form, items: Map(id -> { item, wrap }), lists: Map(id ->
// list control), idempotencyKey, screening (when reopened), etag and base
// (the version of the stored answers the edits started from, and those
// answers: a save applies to that version only), baseOutcome (that
// version's suggestion), merge (when another person's save is being merged
// into this form: form-changed.js) }.

export let formState = null;

export function setFormState(next) {
  formState = next;
}
