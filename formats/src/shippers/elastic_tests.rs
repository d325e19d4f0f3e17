use http::StatusCode;

use super::*;

const LIMITS: DecodeLimits = DecodeLimits {
    max_body_bytes: 1 << 20,
    max_events: 5,
    max_line_bytes: 256,
};

fn payload(item: &Item) -> Value {
    serde_json::from_str(item.outcome.as_ref().unwrap()).unwrap()
}

#[test]
fn index_and_create_pairs_become_payloads_with_their_index() {
    let body = concat!(
        "{\"index\":{\"_index\":\"app-logs\",\"_id\":\"a1\"}}\n",
        "{\"@timestamp\":\"2025-02-01T12:00:00Z\",\"message\":\"hello\",\"log\":{\"level\":\"warn\"}}\n",
        "{\"create\":{}}\n",
        "{\"message\":\"second\",\"index\":\"own\"}\n",
        "\n",
        "{\"delete\":{\"_index\":\"x\",\"_id\":\"1\"}}\n",
        "{\"update\":{\"_id\":\"2\"}}\n",
        "{\"doc\":{\"message\":\"changed\"}}\n",
    );
    let items = parse_bulk(body.as_bytes(), Some("default-idx"), &LIMITS).unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(
        payload(&items[0]),
        json!({"@timestamp":"2025-02-01T12:00:00Z","message":"hello","log":{"level":"warn"},"index":"app-logs"})
    );
    assert_eq!(items[0].id.as_deref(), Some("a1"));
    assert_eq!(items[1].index, "default-idx");
    assert_eq!(payload(&items[1])["index"], "own");
    assert_eq!(items[2].action, "delete");
    assert_eq!(items[2].outcome.as_ref().unwrap_err().status, 400);
    assert_eq!(items[3].action, "update");
    assert!(items[3].outcome.is_err());

    let mut ids = vec!["e1".to_owned(), "e2".to_owned()].into_iter();
    let answer = answer(&items, &mut ids, 3);
    assert_eq!(answer["errors"], true);
    assert_eq!(answer["items"][0]["index"]["_id"], "a1");
    assert_eq!(answer["items"][0]["index"]["status"], 201);
    assert_eq!(answer["items"][0]["index"]["result"], "created");
    assert_eq!(answer["items"][1]["create"]["_id"], "e2");
    assert_eq!(answer["items"][1]["create"]["_index"], "default-idx");
    assert_eq!(
        answer["items"][2]["delete"]["error"]["type"],
        "illegal_argument_exception"
    );
    assert_eq!(answer["items"][3]["update"]["status"], 400);
}

#[test]
fn bad_documents_fail_alone() {
    let body = concat!(
        "{\"index\":{}}\n",
        "[1,2]\n",
        "{\"index\":{}}\n",
        "{\"message\": \"unterminated}\n",
        "{\"index\":{}}\n",
        "{\"service\": {\"name\": \"ecs-nested\"}}\n",
        "{\"index\":{}}\n",
        "{\"message\":\"ok\"}\n",
    );
    let items = parse_bulk(body.as_bytes(), None, &LIMITS).unwrap();
    let error = items[0].outcome.as_ref().unwrap_err();
    assert_eq!(
        (error.status, error.kind),
        (400, "document_parsing_exception")
    );
    let error = items[1].outcome.as_ref().unwrap_err();
    assert!(
        error.reason.contains("not a JSON object"),
        "{}",
        error.reason
    );
    assert_eq!(payload(&items[2])["service"]["name"], "ecs-nested");
    assert!(items[3].outcome.is_ok());
    let long = format!(
        "{{\"index\":{{}}}}\n{{\"message\":\"{}\"}}\n",
        "z".repeat(300)
    );
    let items = parse_bulk(long.as_bytes(), None, &LIMITS).unwrap();
    assert!(
        items[0]
            .outcome
            .as_ref()
            .unwrap_err()
            .reason
            .contains("longer")
    );
}

#[test]
fn broken_requests_are_4xx_naming_the_line() {
    let error = parse_bulk(
        b"{\"index\":{}}\n{\"message\":\"a\"}\nnot json\n",
        None,
        &LIMITS,
    )
    .unwrap_err();
    assert_eq!(
        (error.status, error.code, error.line),
        (StatusCode::BAD_REQUEST, "invalid_action", Some(3))
    );
    let error = parse_bulk(b"{\"index\":{}}\n", None, &LIMITS).unwrap_err();
    assert_eq!((error.code, error.line), ("invalid_action", Some(1)));
    let error = parse_bulk(b"{\"upsert\":{}}\n{}\n", None, &LIMITS).unwrap_err();
    assert!(error.message.contains("upsert"));
    let error = parse_bulk(b"{\"index\":{},\"create\":{}}\n{}\n", None, &LIMITS).unwrap_err();
    assert_eq!(error.code, "invalid_action");
    assert_eq!(
        parse_bulk(b"\n\n", None, &LIMITS).unwrap_err().code,
        "empty"
    );
    let many = "{\"create\":{}}\n{}\n".repeat(6);
    assert_eq!(
        parse_bulk(many.as_bytes(), None, &LIMITS).unwrap_err().code,
        "too_many_events"
    );
}
