//! Deployments that span files: Bicep modules, parameter files, ARM nested and linked deployments,
//! and `existing` resources another audited folder declares (fixtures/modules).

use azaudit::engine::{check, Disk, Options, Report};
use azaudit::graph::EdgeKind;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/modules")
        .join(name)
}

fn analyse_paths(paths: &[PathBuf]) -> Report {
    let walked = azaudit::files::discover::candidates(paths).expect("walk");
    let found = azaudit::files::discover::read_all(&walked.candidates);
    check(&found.inputs, &Disk, &Options::default())
}

fn analyse(name: &str) -> Report {
    analyse_paths(&[fixture(name)])
}

fn file_name(report: &Report, file: azaudit::source::FileId) -> String {
    report
        .sources
        .get(file)
        .and_then(|f| f.path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

/// `(file of the API Management, its name, the subnet it links to)` for every instance.
fn apim_subnets(report: &Report) -> Vec<(String, String, Option<String>)> {
    let g = &report.graph;
    let mut out = Vec::new();
    for (i, r) in g.resources.iter().enumerate() {
        if !r
            .type_name
            .eq_ignore_ascii_case("Microsoft.ApiManagement/service")
        {
            continue;
        }
        let subnet = g
            .edges_from(i)
            .find(|e| {
                e.kind == EdgeKind::Reference
                    && e.path.to_ascii_lowercase().contains("subnetresourceid")
            })
            .and_then(|e| g.resources.get(e.to))
            .map(|s| s.name.clone());
        out.push((file_name(report, r.file), r.name.clone(), subnet));
    }
    out.sort();
    out
}

/// The resource the `subnetResourceId` of the API Management instance `name` links to.
fn subnet_of<'r>(report: &'r Report, name: &str) -> Option<&'r azaudit::graph::Resource> {
    let g = &report.graph;
    let apim = g.resources.iter().position(|r| r.name == name)?;
    g.edges_from(apim)
        .find(|e| e.path.ends_with("subnetResourceId"))
        .and_then(|e| g.resources.get(e.to))
}

fn codes_at(report: &Report, code: &str) -> Vec<(String, u32, String)> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            let f = report.sources.get(d.span.file).unwrap();
            (
                file_name(report, d.span.file),
                f.line_col(d.span.start).line,
                d.message.clone(),
            )
        })
        .collect()
}

#[test]
fn module_outputs_feed_the_subnet_id() {
    let report = analyse("outputs");
    assert_eq!(
        apim_subnets(&report),
        vec![(
            "main.bicep".into(),
            "apim-outputs".into(),
            Some("vnet-hub/snet-apim".into())
        )]
    );
    // The subnet lacks an NSG: reported at the subnet in network.bicep, once (network.bicep is
    // audited on its own and through main.bicep).
    let nsg = codes_at(&report, "apim-subnet-nsg");
    assert_eq!(nsg.len(), 1, "{nsg:?}");
    assert_eq!(nsg[0].0, "network.bicep");
    // The module's resources carry the module call.
    let subnet = report
        .graph
        .resources
        .iter()
        .find(|r| r.name == "vnet-hub/snet-apim" && !r.module_chain.is_empty())
        .expect("subnet deployed through the module");
    assert_eq!(
        file_name(&report, subnet.module_chain[0].file),
        "main.bicep"
    );
}

#[test]
fn module_loops_instantiate_each_element() {
    let report = analyse("loops");
    let linked: Vec<_> = apim_subnets(&report)
        .into_iter()
        .filter(|(_, name, _)| !name.contains('{'))
        .collect();
    assert_eq!(
        linked,
        vec![
            (
                "apim.bicep".into(),
                "apim-east".into(),
                Some("vnet-east/snet-apim".into())
            ),
            (
                "apim.bicep".into(),
                "apim-west".into(),
                Some("vnet-west/snet-apim".into())
            ),
        ]
    );
    // A finding inside the module names the module call as a related location.
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "apim-subnet-nsg" && d.message.contains("apim-east"))
        .expect("nsg finding");
    assert!(d
        .related
        .iter()
        .any(|r| r.kind == azaudit::diagnostic::RelatedKind::Module
            && file_name(&report, r.span.file) == "main.bicep"));
}

#[test]
fn conditional_modules() {
    let report = analyse("conditional");
    let names: Vec<String> = report
        .graph
        .resources
        .iter()
        .filter(|r| r.type_name == "Microsoft.ApiManagement/service")
        .map(|r| r.name.clone())
        .collect();
    assert!(!names.contains(&"apim-first".to_string()), "{names:?}");
    let second = report
        .graph
        .resources
        .iter()
        .find(|r| r.name == "apim-second")
        .expect("maybe deployed");
    assert!(matches!(
        second.deployed,
        azaudit::graph::Deployed::Maybe(_)
    ));
}

#[test]
fn module_cycles_are_reported() {
    let report = analyse("cycle");
    let cycles = codes_at(&report, "module-cycle");
    assert!(!cycles.is_empty());
    assert!(
        cycles
            .iter()
            .any(|(_, _, m)| m == "module cycle: a.bicep → b.bicep → a.bicep"),
        "{cycles:?}"
    );
}

#[test]
fn registry_modules_are_not_restored() {
    let report = analyse("registry");
    assert!(
        report.not_evaluated.iter().any(|n| n
            .reason
            .contains("br/public:avm/res/network/virtual-network:0.1.0")
            && n.reason.contains("module not restored")),
        "{:?}",
        report.not_evaluated
    );
}

#[test]
fn a_parameter_file_changes_the_verdict() {
    // main.bicep defaults to an NSG on the subnet; main.bicepparam turns it off.
    let report = analyse("paramfile");
    let nsg = codes_at(&report, "apim-subnet-nsg");
    assert_eq!(nsg.len(), 1, "{nsg:?}");
    assert_eq!(nsg[0].0, "main.bicep");
    assert!(nsg[0].2.ends_with(" (with main.bicepparam)"), "{nsg:?}");
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "apim-subnet-nsg")
        .unwrap();
    assert!(d
        .related
        .iter()
        .any(|r| file_name(&report, r.span.file) == "main.bicepparam"));
    // Without the parameter file the template passes.
    let text = std::fs::read_to_string(fixture("paramfile/main.bicep")).unwrap();
    let alone = check(
        &[azaudit::files::Input {
            path: PathBuf::from("elsewhere/main.bicep"),
            text: text.into(),
        }],
        &Disk,
        &Options::default(),
    );
    assert!(codes_at(&alone, "apim-subnet-nsg").is_empty());
}

#[test]
fn arm_nested_and_linked_deployments() {
    let report = analyse("arm-nested");
    assert_eq!(
        apim_subnets(&report),
        vec![
            (
                "azuredeploy.json".into(),
                "apim-inner".into(),
                Some("vnet-arm/snet-inner".into())
            ),
            (
                "azuredeploy.json".into(),
                "apim-linked".into(),
                Some("vnet-linked/snet-linked".into())
            ),
            (
                "azuredeploy.json".into(),
                "apim-outer".into(),
                Some("vnet-arm-outer/snet-outer".into())
            ),
        ]
    );
    assert!(report
        .graph
        .resources
        .iter()
        .any(|r| file_name(&report, r.file) == "network.json" && !r.module_chain.is_empty()));
}

#[test]
fn existing_links_to_a_declaration_in_another_folder() {
    let report = analyse("cross-folder");
    let target = subnet_of(&report, "apim-cross").expect("linked");
    assert!(!target.existing);
    assert_eq!(file_name(&report, target.file), "network.bicep");
    // Unrelated: a template alone does not link to another folder's placeholder ids.
    let report = analyse_paths(&[fixture("cross-folder/apim")]);
    let target = subnet_of(&report, "apim-cross").unwrap();
    assert!(target.existing);
}

#[test]
fn unrelated_templates_stay_apart() {
    // Two deployments declaring the same placeholder ids don't link to each other.
    let report = analyse_paths(&[fixture("outputs"), fixture("conditional")]);
    for (i, r) in report.graph.resources.iter().enumerate() {
        for e in report.graph.edges_from(i) {
            let to = &report.graph.resources[e.to];
            let same_tree = |p: &Path| p.parent().map(Path::to_path_buf);
            assert_eq!(
                same_tree(&report.sources.get(r.file).unwrap().path),
                same_tree(&report.sources.get(to.file).unwrap().path),
                "{} -> {}",
                r.name,
                to.name
            );
        }
    }
}

#[test]
fn cli_reports_module_findings_as_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_azaudit"))
        .args(["check", "--format", "json"])
        .arg(fixture("outputs"))
        .output()
        .expect("run azaudit");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let text = json.to_string();
    assert!(text.contains("apim-subnet-nsg"), "{text}");
    assert!(text.contains("network.bicep"), "{text}");
}

#[test]
fn quickstart_apim_instances_link_to_their_subnets() {
    let shared = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared"));
    let root = shared.join("corpus/quickstart/quickstarts");
    if !root.exists() {
        println!("skipped: {} is absent", root.display());
        return;
    }
    let report = analyse_paths(&[
        root.join("microsoft.apimanagement"),
        root.join("microsoft.cdn/front-door-standard-premium-api-management-external"),
    ]);
    let g = &report.graph;
    let mut lines = Vec::new();
    for (i, r) in g.resources.iter().enumerate() {
        if !r
            .type_name
            .eq_ignore_ascii_case("Microsoft.ApiManagement/service")
        {
            continue;
        }
        let path = &report.sources.get(r.file).unwrap().path;
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let subnet = g
            .edges_from(i)
            .filter(|e| e.path.to_ascii_lowercase().contains("subnetresourceid"))
            .filter_map(|e| g.resources.get(e.to))
            .map(|s| {
                let sp = &report.sources.get(s.file).unwrap().path;
                format!(
                    "{} ({})",
                    s.name,
                    sp.strip_prefix(&root).unwrap_or(sp).display()
                )
            })
            .collect::<Vec<_>>();
        let unresolved = g
            .unresolved
            .iter()
            .filter(|u| u.from == i && u.path.to_ascii_lowercase().contains("subnetresourceid"))
            .map(|u| format!("unresolved {}: {}", u.value, u.reason))
            .collect::<Vec<_>>();
        lines.push(format!(
            "{rel} {} -> {}{}",
            r.name,
            if subnet.is_empty() {
                "-".to_string()
            } else {
                subnet.join(", ")
            },
            if unresolved.is_empty() {
                String::new()
            } else {
                format!(" [{}]", unresolved.join("; "))
            }
        ));
    }
    lines.sort();
    for l in &lines {
        println!("{l}");
    }
    // Every instance the templates put in a subnet links to it; through a module output too.
    let expected = [
        "front-door-standard-premium-api-management-external/modules/api-management.bicep apim-",
        "api-management-create-with-external-vnet-publicip/azuredeploy.json",
        "api-management-create-with-external-vnet-publicip/main.bicep",
        "api-management-create-with-internal-vnet-application-gateway/azuredeploy.json",
        "api-management-create-with-internal-vnet-publicip/azuredeploy.json",
        "api-management-create-with-internal-vnet-publicip/main.bicep",
        "front-door-standard-premium-api-management-external/azuredeploy.json",
    ];
    for e in expected {
        let l = lines
            .iter()
            .find(|l| l.contains(e))
            .unwrap_or_else(|| panic!("no API Management in {e}"));
        assert!(!l.contains(" -> -"), "{l}");
    }
    let fd = lines
        .iter()
        .find(|l| l.contains("modules/api-management.bicep apim-"))
        .unwrap();
    assert!(
        fd.contains("VNet/apim") && fd.contains("modules/network.bicep"),
        "{fd}"
    );
}

/// Serves one edited buffer, the disk for the rest (what the language server does).
struct Edited {
    path: PathBuf,
    text: std::sync::Arc<str>,
}

impl azaudit::files::FileProvider for Edited {
    fn read(&self, path: &Path) -> Option<std::sync::Arc<str>> {
        if path == self.path {
            return Some(self.text.clone());
        }
        azaudit::files::Disk.read(path)
    }
}

#[test]
fn module_files_are_read_through_the_provider() {
    let main = fixture("outputs/main.bicep");
    let input = azaudit::files::Input {
        path: main.clone(),
        text: std::fs::read_to_string(&main).unwrap().into(),
    };
    let on_disk = check(std::slice::from_ref(&input), &Disk, &Options::default());
    assert_eq!(codes_at(&on_disk, "apim-subnet-nsg").len(), 1);
    // The module file is part of the report's sources, so its diagnostics render.
    assert!(on_disk
        .sources
        .iter()
        .any(|(_, f)| f.path.ends_with("outputs/network.bicep")));
    // An unsaved edit of network.bicep that adds an NSG clears the finding in main.bicep's run.
    let network = fixture("outputs/network.bicep");
    let edited = std::fs::read_to_string(&network)
        .unwrap()
        .replace(
            "    addressPrefix: '10.0.1.0/24'\n",
            "    addressPrefix: '10.0.1.0/24'\n    networkSecurityGroup: {\n      id: nsg.id\n    }\n",
        )
        + "\nresource nsg 'Microsoft.Network/networkSecurityGroups@2023-09-01' = {\n  name: 'nsg'\n  location: location\n}\n";
    let provider = Edited {
        path: network,
        text: edited.into(),
    };
    let report = check(&[input], &provider, &Options::default());
    assert!(
        codes_at(&report, "apim-subnet-nsg").is_empty(),
        "{:?}",
        report.diagnostics
    );
}

#[test]
fn a_finding_decided_by_a_parameter_file_points_at_its_value() {
    let report = analyse("paramvalue");
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "apim-subnet-size")
        .expect("too small with the parameter file");
    assert_eq!(file_name(&report, d.span.file), "main.bicep");
    assert!(d.message.ends_with(" (with main.bicepparam)"));
    let value = d
        .related
        .iter()
        .find(|r| r.kind == azaudit::diagnostic::RelatedKind::ValueFromParameterFile)
        .expect("points at the value");
    let f = report.sources.get(value.span.file).unwrap();
    assert_eq!(f.slice(value.span), "'10.0.1.0/30'");
}

#[test]
fn arm_parameter_files_by_metadata_and_by_convention() {
    let report = analyse("arm-params");
    // small.json (linked by `metadata.template`) makes the subnet too small; the conventional
    // template.parameters.json doesn't.
    let size = codes_at(&report, "apim-subnet-size");
    assert_eq!(size.len(), 1, "{size:?}");
    assert!(size[0].2.ends_with(" (with small.json)"), "{size:?}");
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "apim-subnet-size")
        .unwrap();
    let value = d
        .related
        .iter()
        .find(|r| r.kind == azaudit::diagnostic::RelatedKind::ValueFromParameterFile)
        .expect("points at the value");
    assert_eq!(
        report
            .sources
            .get(value.span.file)
            .unwrap()
            .slice(value.span),
        "\"10.0.1.0/30\""
    );
    // Each parameter file is a deployment of its own.
    let rules = codes_at(&report, "apim-nsg-rules");
    assert_eq!(rules.len(), 2, "{rules:?}");
}

#[test]
fn using_none_deploys_nothing() {
    let path = fixture("paramfile/none.bicepparam");
    let input = azaudit::files::Input {
        path: path.clone(),
        text: std::fs::read_to_string(&path).unwrap().into(),
    };
    let report = check(&[input], &Disk, &Options::default());
    assert!(report.graph.resources.is_empty());
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn module_fan_out_is_bounded() {
    let path = fixture("fanout/m1.bicep");
    let input = azaudit::files::Input {
        path: path.clone(),
        text: std::fs::read_to_string(&path).unwrap().into(),
    };
    let report = check(&[input], &Disk, &Options::default());
    assert!(report
        .diagnostics
        .iter()
        .any(|d| d.code == "module-error" && d.message.starts_with("more than 2000")));
    assert!(report.graph.resources.len() <= 2100);
}

#[test]
fn a_module_scope_places_its_resources() {
    let path = fixture("scope/main.bicep");
    let input = azaudit::files::Input {
        path: path.clone(),
        text: std::fs::read_to_string(&path).unwrap().into(),
    };
    let report = check(&[input], &Disk, &Options::default());
    let subnet = report
        .graph
        .resources
        .iter()
        .find(|r| r.name == "vnet-hub/snet-apim")
        .expect("subnet");
    assert!(
        subnet.id.contains("/resourceGroups/rg-network/"),
        "{}",
        subnet.id
    );
    assert_eq!(
        apim_subnets(&report),
        vec![(
            "main.bicep".into(),
            "apim-scope".into(),
            Some("vnet-hub/snet-apim".into())
        )]
    );
}

fn cache_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bicep-cache")
}

/// `(file, line)` of every `code` diagnostic.
fn lines_of(report: &Report, code: &str) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = codes_at(report, code)
        .into_iter()
        .map(|(f, l, _)| (f, l))
        .collect();
    out.sort();
    out
}

#[test]
fn registry_modules_come_from_the_module_cache() {
    // bicepconfig.json beside the files names the cache (`cacheRootDirectory`, relative to it) and
    // the aliases; no default cache, so the real ~/.bicep plays no part.
    let report = analyse("registry-cache");
    // br:, br/<alias>: and ts/<alias>: all reach a subnet without the delegation Standard v2
    // needs; the finding is reported where the user's file links to it.
    assert_eq!(
        lines_of(&report, "apim-subnet-delegation"),
        vec![
            ("alias.bicep".into(), 23),
            ("main.bicep".into(), 23),
            ("spec.bicep".into(), 23)
        ]
    );
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.code == "apim-subnet-delegation")
        .unwrap();
    let cached = &report.sources.get(d.related[0].span.file).unwrap().path;
    assert!(
        cached.ends_with("br/contoso.azurecr.io/bicep$modules$network$apim-vnet/v1$/main.json"),
        "{}",
        cached.display()
    );
    // Nothing proposes to edit the cache.
    assert!(report
        .diagnostics
        .iter()
        .all(|d| d.fixes.iter().all(|f| f.edits.iter().all(|e| !report
            .sources
            .get(e.span.file)
            .unwrap()
            .path
            .starts_with(cache_fixture())))));
    // Each instance links to the subnet its cached module deploys (the template spec is read from
    // the version resource Bicep caches); the module not restored leaves its instance unlinked.
    assert_eq!(
        apim_subnets(&report),
        vec![
            (
                "alias.bicep".into(),
                "apim-alias".into(),
                Some("vnet-registry/snet-apim".into())
            ),
            (
                "main.bicep".into(),
                "apim-registry".into(),
                Some("vnet-registry/snet-apim".into())
            ),
            ("missing.bicep".into(), "apim-missing".into(), None),
            (
                "spec.bicep".into(),
                "apim-spec".into(),
                Some("vnet-spec/snet-apim".into())
            ),
        ]
    );
    // A module the cache lacks is not evaluated, naming the reference.
    assert!(
        report.not_evaluated.iter().any(|n| n
            .reason
            .contains("module 'br:contoso.azurecr.io/bicep/modules/network/other:v1'")
            && n.reason.contains("module not restored")),
        "{:?}",
        report.not_evaluated
    );
    assert!(codes_at(&report, "apim-subnet-delegation")
        .iter()
        .all(|(f, _, _)| f != "missing.bicep"));
}

#[test]
fn registry_modules_without_a_cache_are_not_restored() {
    // The same file where no bicepconfig.json governs it, and no default cache.
    let text = std::fs::read_to_string(fixture("registry-cache/main.bicep")).unwrap();
    let input = azaudit::files::Input {
        path: std::env::temp_dir().join("azaudit-registry-no-config/main.bicep"),
        text: text.into(),
    };
    let report = check(std::slice::from_ref(&input), &Disk, &Options::default());
    assert!(lines_of(&report, "apim-subnet-delegation").is_empty());
    assert!(report.not_evaluated.iter().any(|n| n
        .reason
        .contains("module 'br:contoso.azurecr.io/bicep/modules/network/apim-vnet:v1'")
        && n.reason.contains("module not restored")));
    // The default cache (what `~/.bicep` is for the front ends) has it.
    let options = Options {
        registry: azaudit::files::registry::Registry {
            default_cache: Some(cache_fixture()),
            fixed: None,
        },
        ..Options::default()
    };
    let report = check(std::slice::from_ref(&input), &Disk, &options);
    assert_eq!(
        lines_of(&report, "apim-subnet-delegation"),
        vec![("main.bicep".into(), 23)]
    );
    // An alias no configuration defines is not evaluated either, and says so.
    let text = std::fs::read_to_string(fixture("registry-cache/alias.bicep")).unwrap();
    let input = azaudit::files::Input {
        path: std::env::temp_dir().join("azaudit-registry-no-config/alias.bicep"),
        text: text.into(),
    };
    let report = check(&[input], &Disk, &options);
    assert!(
        report.not_evaluated.iter().any(|n| n
            .reason
            .contains("module alias 'br/contoso' is not configured")),
        "{:?}",
        report.not_evaluated
    );
}

#[test]
fn cli_reads_the_module_cache_its_configuration_names() {
    let home = std::env::temp_dir().join(format!("azaudit-empty-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_azaudit"))
            .env("HOME", &home)
            .env("USERPROFILE", &home)
            .args(["check", "--format", "json"])
            .args(args)
            .output()
            .expect("run azaudit");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["diagnostics"].to_string()
    };
    let dir = fixture("registry-cache");
    let text = run(&[dir.join("main.bicep").to_str().unwrap()]);
    assert!(text.contains("apim-subnet-delegation"), "{text}");
    // `--config` governs every file: with a configuration that names no cache, nothing is
    // restored (the empty home has no ~/.bicep).
    let config = home.join("bicepconfig.json");
    std::fs::write(&config, "{}").unwrap();
    let text = run(&[
        "--config",
        config.to_str().unwrap(),
        dir.join("main.bicep").to_str().unwrap(),
    ]);
    assert!(!text.contains("apim-subnet-delegation"), "{text}");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn the_public_alias_reads_the_microsoft_registry_from_the_cache() {
    // `br/public:` is mcr.microsoft.com with module path `bicep`, whatever the configuration.
    let options = Options {
        registry: azaudit::files::registry::Registry {
            default_cache: Some(cache_fixture()),
            fixed: None,
        },
        ..Options::default()
    };
    let walked = azaudit::files::discover::candidates(&[fixture("registry")]).expect("walk");
    let found = azaudit::files::discover::read_all(&walked.candidates);
    let report = check(&found.inputs, &Disk, &options);
    assert_eq!(
        apim_subnets(&report),
        vec![(
            "main.bicep".into(),
            "apim-registry".into(),
            Some("vnet/snet-default".into())
        )]
    );
    assert!(!report
        .not_evaluated
        .iter()
        .any(|n| n.reason.contains("module not restored")));
}
