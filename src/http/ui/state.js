// What the views share: who is signed in, and the questionnaire.

export const state = { me: null, questionnaire: null };

// The questionnaire, fetched once (it is public).
export async function questionnaire() {
  if (!state.questionnaire) state.questionnaire = await (await fetch("/v1/questionnaire")).json();
  return state.questionnaire;
}
