// Which documents start the language server: Bicep always, JSON only when it is an ARM template or
// parameter file. Run with `npm test` (compiles first).
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const { isAudited, isArmJson, JSON_LANGUAGES, BICEP_LANGUAGES } = require("../out/documents.js");

const template = `{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": []
}`;
const parameters = `{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"}`;
const subscription = `{"$schema": "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#"}`;

test("Bicep documents are audited", () => {
  assert.ok(isAudited("bicep", ""));
  assert.ok(isAudited("bicep-params", "using 'main.bicep'"));
});

test("JSON documents are audited only when they are ARM templates or parameter files", () => {
  assert.ok(isAudited("json", template));
  assert.ok(isAudited("jsonc", parameters));
  assert.ok(isAudited("arm-template", subscription));
  assert.ok(!isAudited("json", `{"name": "my-package", "version": "1.0.0"}`));
  assert.ok(!isAudited("json", `{"$schema": "https://json.schemastore.org/package.json"}`));
  assert.ok(!isArmJson(""));
  assert.ok(!isAudited("yaml", template));
});

test("activation events: Bicep, and JSON only with the content check", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8"));
  const events = pkg.activationEvents;
  for (const language of BICEP_LANGUAGES) {
    assert.ok(events.includes(`onLanguage:${language}`), `onLanguage:${language}`);
  }
  const languages = events.filter((e) => e.startsWith("onLanguage:")).map((e) => e.slice(11));
  for (const language of languages) {
    assert.ok(
      BICEP_LANGUAGES.includes(language) || JSON_LANGUAGES.includes(language),
      `${language} is neither Bicep nor checked JSON`,
    );
  }
  // The extension declares the Bicep languages, so it works without the Bicep extension too.
  const declared = pkg.contributes.languages.map((l) => l.id);
  assert.deepStrictEqual(declared.sort(), [...BICEP_LANGUAGES].sort());
});
