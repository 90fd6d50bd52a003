//! `prompt_field`: a document that starts with its record's prompt is read without it, in every
//! format that has fields; other documents are read whole, extras keep their places, and plain
//! text refuses the option.
use tailwatch_io::{DocReader, Error, Format, ReadOptions};

fn read(name: &str, bytes: &[u8], options: &ReadOptions) -> (Vec<String>, Vec<Vec<Option<String>>>, u64) {
    let mut reader = DocReader::from_bytes(name, bytes.to_vec(), options).unwrap();
    let (mut texts, mut extras) = (Vec::new(), Vec::new());
    while let Some(batch) = reader.next_batch().unwrap() {
        for record in batch.records {
            extras.push(record.extras.clone());
            texts.extend(record.texts);
        }
    }
    (texts, extras, reader.stats().prompts_stripped)
}

fn with_prompt(format: Format) -> ReadOptions {
    ReadOptions {
        format: Some(format),
        prompt_field: Some("prompt".into()),
        extra_fields: vec!["id".into()],
        ..ReadOptions::default()
    }
}

#[test]
fn jsonl_documents_lose_their_prompt() {
    let jsonl = br#"{"id": 1, "prompt": "Tell me a story.", "text": "Tell me a story.  Once upon a time."}
{"id": 2, "prompt": "Name a colour.", "text": "Blue."}
{"id": 3, "text": "Tell me a story. No prompt field."}
{"id": 4, "prompt": "", "text": "An empty prompt."}
{"id": 5, "prompt": "Q:", "text": ["Q: one", "Q: two", "three"]}
"#;
    let (texts, extras, stripped) = read("a.jsonl", jsonl, &with_prompt(Format::Jsonl));
    assert_eq!(
        texts,
        [
            "Once upon a time.",
            "Blue.",
            "Tell me a story. No prompt field.",
            "An empty prompt.",
            "one",
            "two",
            "three"
        ]
    );
    assert_eq!(stripped, 3);
    // the prompt is not an extra: the asked-for extras keep their places
    assert_eq!(extras[0], [Some("1".to_string())]);
    assert_eq!(extras[4], [Some("5".to_string())]);
}

#[test]
fn csv_documents_lose_their_prompt() {
    let csv = b"id,prompt,text\n1,Say hi.,Say hi. Hello there\n2,Say hi.,Goodbye\n";
    let (texts, _, stripped) = read("a.csv", csv, &with_prompt(Format::Csv));
    assert_eq!(texts, ["Hello there", "Goodbye"]);
    assert_eq!(stripped, 1);
}

#[test]
fn plain_text_has_no_prompt_field() {
    let options = ReadOptions { prompt_field: Some("prompt".into()), ..ReadOptions::default() };
    match DocReader::from_bytes("a.txt", b"one\ntwo\n".to_vec(), &options) {
        Err(error @ Error::NoFields { .. }) => {
            assert!(error.to_string().contains("a prompt field"), "{error}")
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("plain text read a prompt field"),
    }
}
