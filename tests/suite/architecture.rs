//! The layer map of `src/lib.rs`, checked: every `crate::` path in `src/` is read, and the
//! graph of top-level modules must have no cycle and respect the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::helpers::repo_path;

/// The layers, lowest first. A module may use modules of its own layer or below; within a
/// layer no cycle is allowed.
const LAYERS: &[(&str, &[&str])] = &[
    ("core", &["content", "reactions", "render", "schedule", "subscribers", "tokens"]),
    ("ports and adapters", &["content_io", "images", "store", "mail", "telemetry"]),
    ("application", &["app"]),
    ("composition", &["config", "startup"]),
    ("entry points", &["http", "local", "lambda", "cli"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

/// `module → modules it uses`, from every `crate::name` in its files (`use` lines and paths
/// in code alike; comments and doc lines are skipped).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = repo_path("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    collect_rs(&src, &mut files);
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "bin" {
            continue;
        }
        let entry = graph.entry(module.clone()).or_default();
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                // `crate::error_chain` and other items of lib.rs are no module.
                let is_module =
                    repo_path("src").join(&name).exists() || repo_path("src").join(format!("{name}.rs")).exists();
                if is_module && name != module {
                    entry.insert(name);
                }
            }
        }
    }
    graph
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_has_a_layer() {
    let graph = module_graph();
    let missing: Vec<_> = graph.keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(missing.is_empty(), "modules without a layer in LAYERS (and lib.rs's map): {missing:?}");
}

#[test]
fn each_layer_uses_only_those_below_it() {
    let graph = module_graph();
    let mut wrong = Vec::new();
    for (module, uses) in &graph {
        let Some(own) = layer_of(module) else { continue };
        for used in uses {
            if layer_of(used).is_some_and(|layer| layer > own) {
                wrong.push(format!("{module} ({}) uses {used} ({})", LAYERS[own].0, LAYERS[layer_of(used).unwrap()].0));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_module_cycle() {
    let cycles = cycles(&module_graph());
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

/// The use cases of the application layer do not use each other in a circle either.
#[test]
fn no_cycle_among_the_use_cases() {
    let app = repo_path("src/app");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    collect_rs(&app, &mut files);
    for file in files {
        let relative = file.strip_prefix(&app).unwrap();
        let module =
            relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if module == "mod" {
            continue;
        }
        let entry = graph.entry(module.clone()).or_default();
        // Paths to a sibling: `super::x` from a file of the layer, `crate::app::x` from anywhere.
        let text = std::fs::read_to_string(&file).unwrap();
        for prefix in ["crate::app::", "super::"] {
            for (at, _) in text.match_indices(prefix) {
                let name: String =
                    text[at + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let is_module = app.join(&name).exists() || app.join(format!("{name}.rs")).exists();
                if is_module && name != module {
                    entry.insert(name);
                }
            }
        }
    }
    assert!(graph.len() >= 6, "{graph:?}");
    let cycles = cycles(&graph);
    assert!(cycles.is_empty(), "cycles among app's modules:\n{}", cycles.join("\n"));
}

/// Every cycle of `graph` found by a depth-first search, as "a → b → a".
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<String>,
    ) {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            cycles.push(cycle.join(" → "));
            return;
        }
        if !done.insert(node.to_owned()) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
    }
    let mut cycles = Vec::new();
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    cycles
}

#[test]
fn the_core_knows_no_ports_and_the_domain_no_render_types() {
    let graph = module_graph();
    assert!(!graph["subscribers"].contains("render"), "subscribers decides, render shows");
    assert!(!graph["subscribers"].contains("tokens"), "tokens sign subscriber ids, not the other way round");
    assert!(graph["http"].contains("app"), "http calls the application's use cases");
}

/// The workers (sender, confirmations, SES events) and the web share only the application's
/// use cases: no handler reaches into a worker.
#[test]
fn http_uses_no_worker() {
    let mut files = Vec::new();
    collect_rs(&repo_path("src/http"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for worker in ["app::sender", "app::confirmations", "app::ses_events"] {
            assert!(!text.contains(worker), "{} uses {worker}", file.display());
        }
    }
}

#[test]
fn the_layer_map_in_lib_rs_names_every_module() {
    let lib = std::fs::read_to_string(repo_path("src/lib.rs")).unwrap();
    for (layer, modules) in LAYERS {
        assert!(lib.contains(layer), "lib.rs's map lacks the layer {layer}");
        for module in *modules {
            assert!(lib.contains(&format!("[`{module}`]")), "lib.rs's map lacks [`{module}`]");
        }
    }
}
