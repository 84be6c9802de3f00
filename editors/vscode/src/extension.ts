// The azaudit extension: starts `azaudit lsp` and connects it to Bicep and ARM template editors.

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

import { BICEP_LANGUAGES, JSON_LANGUAGES, isAudited } from "./documents";

let client: LanguageClient | undefined;
/** The missing-executable message is shown once per session, not once per document. */
let warnedMissing = false;

/** Languages the server audits; plain JSON is filtered by the server (ARM `$schema` only). */
const LANGUAGES = [...BICEP_LANGUAGES, ...JSON_LANGUAGES];

/** The configured `azaudit.path`, else `azaudit` found on PATH, else undefined. */
function findExecutable(): string | undefined {
  const configured = vscode.workspace.getConfiguration("azaudit").get<string>("path", "").trim();
  if (configured !== "") {
    return configured;
  }
  const names = process.platform === "win32" ? ["azaudit.exe", "azaudit.cmd", "azaudit"] : ["azaudit"];
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") {
      continue;
    }
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        if (fs.statSync(candidate).isFile()) {
          return candidate;
        }
      } catch {
        // not there: keep looking
      }
    }
  }
  return undefined;
}

/** What the server reads from `initializationOptions` and `workspace/didChangeConfiguration`. */
function serverSettings(): object {
  const config = vscode.workspace.getConfiguration("azaudit");
  return { azaudit: { rules: config.get<object>("rules", {}) } };
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const command = findExecutable();
  if (command === undefined) {
    if (!warnedMissing) {
      warnedMissing = true;
      const open = "Open settings";
      void vscode.window
        .showWarningMessage(
          "azaudit: the `azaudit` executable was not found on PATH. Install it (`cargo install --path .` in the azaudit repository) or set `azaudit.path` to its location.",
          open,
        )
        .then((choice) => {
          if (choice === open) {
            void vscode.commands.executeCommand("workbench.action.openSettings", "azaudit.path");
          }
        });
    }
    return;
  }
  const serverOptions: ServerOptions = {
    run: { command, args: ["lsp"], transport: TransportKind.stdio },
    debug: { command, args: ["lsp"], transport: TransportKind.stdio },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: "file", language },
      { scheme: "untitled", language },
    ]),
    initializationOptions: serverSettings(),
    // The server registers its own file watchers (workspace/didChangeWatchedFiles).
    synchronize: { configurationSection: "azaudit" },
  };
  client = new LanguageClient("azaudit", "azaudit", serverOptions, clientOptions);
  await client.start();
  context.subscriptions.push({ dispose: () => void client?.stop() });
}

/** Starts the server the first time a document azaudit audits is open (a JSON file only when it
 * is an ARM template or parameter file), so other JSON never starts it nor shows a message. */
function startWhenNeeded(context: vscode.ExtensionContext): void {
  const audited = (d: vscode.TextDocument) => isAudited(d.languageId, d.getText());
  if (vscode.workspace.textDocuments.some(audited)) {
    void start(context);
    return;
  }
  const listener = vscode.workspace.onDidOpenTextDocument((d) => {
    if (client === undefined && audited(d)) {
      listener.dispose();
      void start(context);
    }
  });
  context.subscriptions.push(listener);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("azaudit.restartServer", async () => {
      if (client !== undefined) {
        await client.stop();
        client = undefined;
      }
      warnedMissing = false;
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("azaudit.path") && client === undefined) {
        warnedMissing = false;
        startWhenNeeded(context);
      }
    }),
  );
  startWhenNeeded(context);
}

export async function deactivate(): Promise<void> {
  if (client !== undefined) {
    await client.stop();
    client = undefined;
  }
}
