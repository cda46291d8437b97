import { api } from "./api.js";

// What the views share: who is signed in, and the questionnaire.

export const state = { me: null, questionnaire: null };

// The questionnaire, fetched once (it is public).
export async function questionnaire() {
  if (!state.questionnaire) {
    // Through the client, so that a page left meanwhile is not drawn.
    const res = await api("GET", "/v1/questionnaire");
    if (res.status !== 200) throw new Error(`the questionnaire could not be loaded (${res.status})`);
    state.questionnaire = res.data;
  }
  return state.questionnaire;
}
