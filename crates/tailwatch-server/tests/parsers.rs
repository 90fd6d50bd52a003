//! Property tests: hostile request bodies never panic the parsers; they return 4xx errors.
use proptest::prelude::*;
use tailwatch_server::error::ApiError;
use tailwatch_server::profiles::{RawOptions, decode, jsonl_texts, profile_jsonl};
use tailwatch_server::rules::validate;
use tailwatch_server::types::RuleSpec;

fn options() -> RawOptions {
    RawOptions { field: "text".into(), tokenizer: "words".into(), lowercase: false }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_as_jsonl_are_accepted_or_a_400(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let engine = tailwatch::Engine::new(Some(1)).unwrap();
        if let Err(e) = profile_jsonl(&engine, &bytes, &options(), Some(3)) {
            prop_assert_eq!(ApiError::from(e).status.as_u16(), 400);
        }
    }

    #[test]
    fn jsonl_with_random_values_names_the_line(values in proptest::collection::vec(
        prop_oneof![
            Just("{\"text\": \"a b c\"}".to_string()),
            Just("{\"text\": null}".to_string()),
            Just("{\"text\": [\"x\", 2]}".to_string()),
            Just("{\"txt\": \"a\"}".to_string()),
            Just("[1, 2]".to_string()),
            "[ -~]{0,30}",
        ], 1..20)) {
        let body = values.join("\n");
        match jsonl_texts(body.as_bytes(), "text") {
            Ok(docs) => prop_assert!(docs.iter().all(|(line, _)| *line >= 1 && *line <= values.len() as u64)),
            Err(e) => {
                let e = ApiError::from(e);
                prop_assert_eq!(e.status.as_u16(), 400);
                prop_assert!(e.message.starts_with("request body: line "), "{}", e.message);
            }
        }
    }

    #[test]
    fn any_bytes_as_a_profile_are_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut with_magic = b"TWPROF".to_vec();
        with_magic.extend_from_slice(&bytes);
        for body in [&bytes, &with_magic] {
            let e = decode(body, 1 << 20).expect_err("random bytes are not a profile");
            prop_assert!(ApiError::from(e).status.is_client_error());
        }
    }

    #[test]
    fn any_rule_json_is_validated_without_panic(
        metric in prop_oneof![Just("distinct_2".to_string()), "[a-z_0-9]{0,12}"],
        kind in prop_oneof![Just("fixed"), Just("relative"), Just("adaptive")],
        threshold in proptest::option::of(-1e6f64..1e6),
        k in proptest::option::of(-10f64..10.0),
        open_after in proptest::option::of(0u32..5),
    ) {
        let json = serde_json::json!({"metric": metric, "kind": kind, "threshold": threshold, "k": k, "open_after": open_after});
        let spec: RuleSpec = serde_json::from_value(json).unwrap();
        match validate(&spec) {
            Ok(filled) => {
                prop_assert!(filled.direction.is_some() && filled.open_after.unwrap_or(0) >= 1);
                prop_assert!(filled.kind != tailwatch_server::types::RuleKind::Adaptive || filled.k.unwrap() > 0.0);
            }
            Err(e) => prop_assert_eq!(ApiError::from(e).status.as_u16(), 400),
        }
    }
}
