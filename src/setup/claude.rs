//! Claude Code: hooks in a `settings.json` and the MCP server in the project's `.mcp.json`.
//!
//! The settings format (from Claude Code's hooks documentation): `hooks` maps an event name
//! to a list of matcher groups, each `{"matcher": …, "hooks": [{"type": "command",
//! "command": …}]}`; a group without a matcher runs for every source of the event. The
//! `SessionStart` hook's standard output becomes the agent's context, and the event also
//! fires after a compaction (source `compact`), so one hook primes a new, resumed, cleared and
//! compacted session alike.

use super::json::{self, Kind, Node};
use serde_json::{Value, json};

/// The hooks `setup claude` adds: event name and command.
pub const HOOKS: [(&str, &str); 2] = [
    ("SessionStart", "git ledger prime --hook claude"),
    ("SessionEnd", "git ledger session end --hook claude"),
];

/// The `.mcp.json` entry's name.
pub const SERVER: &str = "git-ledger";

/// The MCP server entry: `git ledger mcp` over stdio.
pub fn server() -> Value {
    json!({ "command": "git", "args": ["ledger", "mcp"] })
}

/// Whether `command` is one of our hooks (of this or an earlier version of the commands).
fn ours(command: &str) -> bool {
    command.starts_with("git ledger ") && command.contains("--hook claude")
}

/// The ledger's key for the Claude Code session a hook's standard input (its JSON) is about:
/// `claude:<session_id>`.
pub fn hook_session_key(input: &[u8]) -> Result<String, super::Error> {
    let bad = |what: &str| super::Error::HookInput(what.to_string());
    let value: Value =
        serde_json::from_slice(input).map_err(|e| bad(&format!("is not JSON ({e})")))?;
    let id = value
        .get("session_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("has no session_id"))?;
    if id.len() > 200 || id.chars().any(char::is_control) {
        return Err(bad("has a session_id that is not an id"));
    }
    Ok(format!("claude:{id}"))
}

fn group(command: &str) -> Value {
    json!({ "hooks": [{ "type": "command", "command": command }] })
}

fn shape(what: &str) -> String {
    format!("its `{what}` is not what Claude Code expects (an object of lists); fix it by hand")
}

/// The settings text with our hooks in it (`None`: the file does not exist yet).
pub fn add_hooks(text: Option<&str>) -> Result<String, String> {
    let Some(mut text) = text.map(str::to_string) else {
        let hooks: serde_json::Map<String, Value> = HOOKS
            .iter()
            .map(|(event, command)| (event.to_string(), json!([group(command)])))
            .collect();
        return Ok(json::document(&json!({ "hooks": hooks })));
    };
    for (event, command) in HOOKS {
        let root = object(json::parse(&text)?)?;
        let Some(hooks) = root.member("hooks") else {
            text = json::append(
                &text,
                &root,
                Some("hooks"),
                &json!({ event: [group(command)] }),
            );
            continue;
        };
        if !matches!(hooks.kind, Kind::Object(_)) {
            return Err(shape("hooks"));
        }
        let Some(groups) = hooks.member(event) else {
            text = json::append(&text, hooks, Some(event), &json!([group(command)]));
            continue;
        };
        if !matches!(groups.kind, Kind::Array(_)) {
            return Err(shape(&format!("hooks.{event}")));
        }
        let present = groups.elements().iter().any(|g| {
            g.member("hooks").is_some_and(|entries| {
                entries.elements().iter().any(|entry| {
                    entry.member("command").and_then(|c| c.value(&text)) == Some(json!(command))
                })
            })
        });
        if !present {
            text = json::append(&text, groups, None, &group(command));
        }
    }
    Ok(text)
}

/// The settings text without our hooks: each is taken out with the groups, events and
/// `hooks` object it leaves empty. `None`: nothing is left (the file can go).
pub fn remove_hooks(text: &str) -> Result<Option<String>, String> {
    let mut text = text.to_string();
    // One hook out at a time, the text parsed again after each.
    while let Some(next) = remove_one_hook(&text)? {
        text = next;
    }
    Ok((!empty_object(&text)).then_some(text))
}

fn remove_one_hook(text: &str) -> Result<Option<String>, String> {
    let root = object(json::parse(text)?)?;
    let Some(hooks) = root.member("hooks") else {
        return Ok(None);
    };
    let Kind::Object(events) = &hooks.kind else {
        return Ok(None);
    };
    for (e, (_, _, groups)) in events.iter().enumerate() {
        for (g, group) in groups.elements().iter().enumerate() {
            let Some(entries) = group.member("hooks") else {
                continue;
            };
            for (h, entry) in entries.elements().iter().enumerate() {
                let is_ours = entry
                    .member("command")
                    .and_then(|c| c.value(text))
                    .and_then(|c| c.as_str().map(ours))
                    .unwrap_or(false);
                if !is_ours {
                    continue;
                }
                // The smallest container that keeps something of someone else's.
                let only_matcher = match &group.kind {
                    Kind::Object(members) => {
                        members.iter().all(|m| m.0 == "hooks" || m.0 == "matcher")
                    }
                    _ => false,
                };
                return Ok(Some(if entries.elements().len() > 1 || !only_matcher {
                    json::remove(text, entries, h)
                } else if groups.elements().len() > 1 {
                    json::remove(text, groups, g)
                } else if events.len() > 1 {
                    json::remove(text, hooks, e)
                } else {
                    let index = member_index(&root, "hooks");
                    json::remove(text, &root, index)
                }));
            }
        }
    }
    Ok(None)
}

/// The `.mcp.json` text with our server in it; `Err` with the reason when a different
/// `git-ledger` server is there (it is kept).
pub fn add_server(text: Option<&str>) -> Result<Result<String, String>, String> {
    let entry = json!({ SERVER: server() });
    let Some(text) = text else {
        return Ok(Ok(json::document(&json!({ "mcpServers": entry }))));
    };
    let root = object(json::parse(text)?)?;
    let Some(servers) = root.member("mcpServers") else {
        return Ok(Ok(json::append(text, &root, Some("mcpServers"), &entry)));
    };
    if !matches!(servers.kind, Kind::Object(_)) {
        return Err("its `mcpServers` is not an object; fix it by hand".into());
    }
    Ok(match servers.member(SERVER).and_then(|s| s.value(text)) {
        None => Ok(json::append(text, servers, Some(SERVER), &server())),
        Some(existing) if existing == server() => Ok(text.to_string()),
        Some(_) => Err(format!(
            "already has a different `{SERVER}` server; it is kept as it is"
        )),
    })
}

/// The `.mcp.json` text without our server (only if it is exactly ours); `None`: nothing is
/// left.
pub fn remove_server(text: &str) -> Result<Option<String>, String> {
    let root = object(json::parse(text)?)?;
    let Some(servers) = root.member("mcpServers") else {
        return Ok(Some(text.to_string()));
    };
    if servers.member(SERVER).and_then(|s| s.value(text)) != Some(server()) {
        return Ok(Some(text.to_string()));
    }
    let text = if servers.len() > 1 {
        json::remove(text, servers, member_index(servers, SERVER))
    } else {
        json::remove(text, &root, member_index(&root, "mcpServers"))
    };
    Ok((!empty_object(&text)).then_some(text))
}

fn object(node: Node) -> Result<Node, String> {
    match node.kind {
        Kind::Object(_) => Ok(node),
        _ => Err("it is not a JSON object".into()),
    }
}

fn member_index(node: &Node, key: &str) -> usize {
    match &node.kind {
        Kind::Object(members) => members
            .iter()
            .position(|m| m.0 == key)
            .unwrap_or(usize::MAX),
        _ => usize::MAX,
    }
}

fn empty_object(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHERS: &str = r#"{
  "model": "opus",
  "hooks": {
    "PostToolUse": [
      {
        "matcher": "Edit",
        "hooks": [
          {
            "type": "command",
            "command": "cargo fmt"
          }
        ]
      }
    ],
    "SessionStart": [
      {
        "matcher": "startup",
        "hooks": [
          {
            "type": "command",
            "command": "echo hi"
          }
        ]
      }
    ]
  }
}
"#;

    #[test]
    fn hooks_are_added_once_and_removed_exactly() {
        for original in [None, Some(OTHERS), Some("{}\n"), Some("{\"a\": 1}")] {
            let added = add_hooks(original).unwrap();
            assert_eq!(add_hooks(Some(&added)).unwrap(), added, "twice: same bytes");
            let value: Value = serde_json::from_str(&added).unwrap();
            for (event, command) in HOOKS {
                let commands: Vec<&str> = value["hooks"][event]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|g| g["hooks"].as_array().unwrap())
                    .filter_map(|h| h["command"].as_str())
                    .collect();
                assert!(commands.contains(&command), "{added}");
            }
            let removed = remove_hooks(&added).unwrap();
            match original {
                None | Some("{}\n") => assert_eq!(removed, None),
                Some(original) => assert_eq!(removed.as_deref(), Some(original)),
            }
        }
    }

    #[test]
    fn a_hook_put_in_a_group_of_others_is_removed_alone() {
        let text = OTHERS.replace(
            r#""command": "echo hi"
          }"#,
            r#""command": "echo hi"
          },
          {
            "type": "command",
            "command": "git ledger prime --hook claude"
          }"#,
        );
        assert_eq!(remove_hooks(&text).unwrap().as_deref(), Some(OTHERS));
    }

    #[test]
    fn the_server_is_added_once_and_removed_exactly() {
        let others =
            "{\n  \"mcpServers\": {\n    \"db\": {\n      \"command\": \"db-mcp\"\n    }\n  }\n}\n";
        for original in [None, Some(others), Some("{}")] {
            let added = add_server(original).unwrap().unwrap();
            assert_eq!(add_server(Some(&added)).unwrap().unwrap(), added);
            let value: Value = serde_json::from_str(&added).unwrap();
            assert_eq!(value["mcpServers"][SERVER], server());
            let removed = remove_server(&added).unwrap();
            match original {
                None | Some("{}") => assert_eq!(removed, None),
                Some(original) => assert_eq!(removed.as_deref(), Some(original)),
            }
        }
        let theirs =
            r#"{"mcpServers": {"git-ledger": {"command": "/opt/git-ledger", "args": ["mcp"]}}}"#;
        assert!(add_server(Some(theirs)).unwrap().is_err());
        assert_eq!(remove_server(theirs).unwrap().as_deref(), Some(theirs));
    }

    #[test]
    fn settings_of_the_wrong_shape_are_refused() {
        assert!(add_hooks(Some("[]")).is_err());
        assert!(add_hooks(Some(r#"{"hooks": []}"#)).is_err());
        assert!(add_hooks(Some(r#"{"hooks": {"SessionStart": {}}}"#)).is_err());
        assert!(add_hooks(Some("{")).unwrap_err().contains("not valid JSON"));
    }
}
