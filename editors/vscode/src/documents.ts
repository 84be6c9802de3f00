// Which documents the extension serves, without the VS Code API (so plain Node tests can check it).

/** Language ids whose documents are always Bicep. */
export const BICEP_LANGUAGES = ["bicep", "bicep-params"];

/** Language ids whose documents are JSON: served only when they are ARM templates or parameter files. */
export const JSON_LANGUAGES = ["json", "jsonc", "arm-template"];

/** The `$schema` of ARM deployment templates and parameter files (any scope, any version). */
const ARM_SCHEMA =
  /"\$schema"\s*:\s*"https?:\/\/schema\.management\.azure\.com\/schemas\/[^"]*\/(subscription|tenant|managementGroup)?deployment(Template|Parameters)\.json#?"/i;

/** Whether `text` (the start of a JSON document) declares an ARM template or parameters schema. */
export function isArmJson(text: string): boolean {
  return ARM_SCHEMA.test(text.slice(0, 4096));
}

/** Whether a document with `languageId` and `text` is one azaudit audits. */
export function isAudited(languageId: string, text: string): boolean {
  if (BICEP_LANGUAGES.includes(languageId)) {
    return true;
  }
  return JSON_LANGUAGES.includes(languageId) && isArmJson(text);
}
