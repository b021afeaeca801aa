// The page: reads the state from the URL, opens the declaration view, the party view, a roll call, the
// roll-call list or the roll calls behind an agreement figure, keeps the knowledge time control and the live feed in step with it.

import "./styles.css";
import { AgreementRollCallsView } from "./agreement-rollcalls";
import { ApiError, api, forgetCatalogue, setReadToken } from "./api";
import { DeclarationView } from "./declaration";
import { clear, h } from "./dom";
import { installKnowledgeControl } from "./knowledge";
import { startLive } from "./live";
import { PartyView } from "./party";
import { RollCallView } from "./rollcall";
import { RollCallListView } from "./rollcalls";
import { installSearch } from "./search";
import { type PageState, go, installNavigation, onStateChange, readState, viewOf } from "./state";

interface View {
  readonly key: string;
  readonly element: HTMLElement;
  update(state: PageState): Promise<void>;
  refresh(): Promise<void>;
  dispose(): void;
}

const main = document.getElementById("main") as HTMLElement;
let current: View | null = null;
let routing = 0;
const syncKnowledge = installKnowledgeControl();

function keyOf(state: PageState): string {
  switch (viewOf(state)) {
    case "rollcall": return `rollcall|${state.rollcall}|${state.knownAt}`;
    case "rollcalls": return `rollcalls|${JSON.stringify(state.rollcalls)}|${state.include}|${state.knownAt}`;
    case "agreement": return `agreement|${JSON.stringify(state.agreement)}|${state.include}|${state.knownAt}`;
    case "party": return `party|${state.party}|${state.knownAt}`;
    default: return `declaration|${state.declaration}|${state.knownAt}`;
  }
}

function open(state: PageState): Promise<View | HTMLElement> {
  switch (viewOf(state)) {
    case "rollcall": return RollCallView.open(state);
    case "rollcalls": return RollCallListView.open(state);
    case "agreement": return AgreementRollCallsView.open(state);
    case "party": return PartyView.open(state);
    default: return DeclarationView.open(state);
  }
}

async function route(state: PageState): Promise<void> {
  syncKnowledge(state);
  const sequence = ++routing;
  try {
    if (viewOf(state) === "declaration" && !state.declaration) {
      // The home page is the most recent declaration, with its id in the URL so the link can be shared.
      const all = await api.declarations(state.knownAt);
      const latest = [...all].sort((a, b) => b.published_on.localeCompare(a.published_on))[0];
      if (latest) {
        go({ declaration: latest.id }, { replace: true, silent: true });
        state = { ...state, declaration: latest.id };
      }
    }
    if (current && current.key === keyOf(state)) {
      await current.update(state);
      return;
    }
    main.setAttribute("aria-busy", "true");
    const opened = await open(state);
    if (sequence !== routing) {
      if (!(opened instanceof HTMLElement)) opened.dispose();
      return;
    }
    current?.dispose();
    clear(main);
    if (opened instanceof HTMLElement) {
      current = null;
      main.append(opened);
    } else {
      current = opened;
      main.append(opened.element);
    }
    main.dataset.view = viewOf(state);
    const heading = main.querySelector("h1")?.textContent?.trim();
    document.title = heading ? `${heading} — Diplomatic Timeline` : "Diplomatic Timeline";
  } catch (error) {
    if (sequence !== routing) return;
    current?.dispose();
    current = null;
    clear(main);
    main.append(error instanceof ApiError && error.status === 401 ? tokenForm() : failure(error));
  } finally {
    if (sequence === routing) main.removeAttribute("aria-busy");
  }
}

function failure(error: unknown): HTMLElement {
  const message = error instanceof Error ? error.message : String(error);
  return h("section", { class: "view", role: "alert" },
    h("h1", {}, "The record could not be read"),
    h("p", {}, message),
    h("p", {}, h("button", { type: "button", onclick: () => void route(readState()) }, "Try again")));
}

function tokenForm(): HTMLElement {
  const input = h("input", { id: "read-token", type: "password", autocomplete: "off", required: true });
  return h("section", { class: "view" },
    h("h1", {}, "This server needs a read token"),
    h("p", {}, "Reads on this server need a bearer token (DIPLO_READ_TOKENS). It is kept for this tab only."),
    h("form", {
      onsubmit: (event: Event) => {
        event.preventDefault();
        setReadToken(input.value.trim() || null);
        forgetCatalogue();
        location.reload();
      },
    }, h("label", { for: "read-token" }, "Read token"), " ", input, " ", h("button", { type: "submit" }, "Use it")));
}

// New acts: read the open view again (a burst of acts is read once), unless the page shows an earlier
// version of the record, which new acts cannot change.
let refreshTimer: number | undefined;
startLive((event) => {
  if (event.kind === "published" || event.kind === "hosted") forgetCatalogue();
  if (readState().knownAt) return;
  window.clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(() => void current?.refresh(), 120);
});

installNavigation();
installSearch();
onStateChange((state) => void route(state));
void route(readState());
