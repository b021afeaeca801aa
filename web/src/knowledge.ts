// Knowledge time: the "As recorded on" control sets known_at for every view, so a reader can see the record
// as it stood before a correction. A banner says plainly when the page is not showing the record as it is now.

import { api } from "./api";
import { clear, formatDay, formatMoment, h } from "./dom";
import { type PageState, go } from "./state";

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MOMENT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$/i;

export function installKnowledgeControl(): (state: PageState) => void {
  const form = document.getElementById("knowledge") as HTMLFormElement;
  const input = document.getElementById("known-at") as HTMLInputElement;
  const error = document.getElementById("known-at-error") as HTMLElement;
  const now = document.getElementById("known-at-now") as HTMLButtonElement;
  const banner = document.getElementById("knowledge-banner") as HTMLElement;

  const fail = (message: string) => {
    error.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  };

  // Each release of a data set is a knowledge time: offered as a suggestion ("after release-2017-03-14").
  void api.releases().then(({ releases }) => {
    const list = h("datalist", { id: "known-at-releases" },
      releases.map((release) => h("option", { value: release.loaded_at }, `after ${release.dataset} ${release.name}`)));
    form.append(list);
    input.setAttribute("list", list.id);
  }).catch(() => { /* the control works without suggestions */ });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim().replace(" ", "T");
    if (value && !DAY.test(value) && !MOMENT.test(value)) {
      fail("Write a date such as 2025-03-01, or a moment with its zone such as 2025-03-01T12:00:00Z.");
      return;
    }
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    go({ knownAt: value || null });
  });
  now.addEventListener("click", () => {
    input.value = "";
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    go({ knownAt: null });
  });

  return (state: PageState) => {
    if (document.activeElement !== input) input.value = state.knownAt ?? "";
    document.body.toggleAttribute("data-known-at", Boolean(state.knownAt));
    banner.hidden = !state.knownAt;
    clear(banner);
    if (state.knownAt) {
      const when = DAY.test(state.knownAt) ? `the end of ${formatDay(state.knownAt)} (UTC)` : formatMoment(state.knownAt);
      banner.append(
        h("strong", {}, "An earlier version of the record. "),
        `You are reading the record as it stood at ${when}: acts recorded and corrections made after that moment are not shown. `,
        h("button", { type: "button", class: "link-button", onclick: () => go({ knownAt: null }) }, "Show the record as it is now"));
    }
  };
}
