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

let client: LanguageClient | undefined;

/** Languages the server audits; plain JSON is filtered by the server (ARM `$schema` only). */
const LANGUAGES = ["bicep", "bicep-params", "json", "jsonc", "arm-template"];

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
    void vscode.window.showErrorMessage(
      "azaudit: the `azaudit` executable was not found on PATH; install it or set `azaudit.path`",
    );
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

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("azaudit.restartServer", async () => {
      if (client !== undefined) {
        await client.stop();
        client = undefined;
      }
      await start(context);
    }),
  );
  await start(context);
}

export async function deactivate(): Promise<void> {
  if (client !== undefined) {
    await client.stop();
    client = undefined;
  }
}
