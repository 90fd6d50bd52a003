//! The standard refusal and disclaimer bank: languages, look-alikes, normalization, sources.

use proptest::prelude::*;
use tailwatch_metrics::phrases::{
    Category, Origin, PHRASE_BANK_VERSION, PhraseBank, PhraseMatch, REFUSAL_WINDOW_CHARS, Source, normalize,
};

const REFUSAL: PhraseMatch = PhraseMatch { refusal: true, disclaimer: false };
const DISCLAIMER: PhraseMatch = PhraseMatch { refusal: false, disclaimer: true };
const NEITHER: PhraseMatch = PhraseMatch { refusal: false, disclaimer: false };

/// (language, a refusal as chat models write it, a disclaimer as they write it)
const BY_LANGUAGE: &[(&str, &str, &str)] = &[
    (
        "en",
        "I'm sorry, but I can't help with that request.",
        "Sure. Note that I'm just an AI, so check with a professional. Here is an overview.",
    ),
    (
        "zh",
        "抱歉，我无法提供这方面的帮助。",
        "当然可以。作为一个人工智能语言模型，我没有个人观点，但以下是一些信息。",
    ),
    (
        "es",
        "Lo siento, pero no puedo ayudarte con eso.",
        "Claro. Como modelo de lenguaje, no tengo opiniones personales, pero te explico.",
    ),
    (
        "fr",
        "Je suis désolé, mais je ne peux pas vous aider avec cette demande.",
        "Bien sûr. En tant qu’IA, je n’ai pas d’opinion personnelle, mais voici les faits.",
    ),
    (
        "de",
        "Es tut mir leid, aber dabei kann ich Ihnen nicht helfen.",
        "Gern. Als KI-Sprachmodell habe ich keine persönliche Meinung, aber hier sind Fakten.",
    ),
    (
        "pt",
        "Desculpe, mas não posso ajudar com isso.",
        "Claro. Como um modelo de linguagem, não tenho opiniões pessoais, mas eis os fatos.",
    ),
    (
        "ru",
        "Извините, но я не могу помочь с этим запросом.",
        "Конечно. Как языковая модель ИИ, я не имею личного мнения, но вот факты.",
    ),
    (
        "ja",
        "申し訳ありませんが、そのご依頼にはお応えできません。",
        "はい。AIとして個人的な意見は持っていませんが、事実をご説明します。",
    ),
    (
        "ko",
        "죄송하지만 그 요청은 도와드릴 수 없습니다.",
        "네. AI로서 저는 개인적인 의견이 없지만, 사실을 알려드리겠습니다.",
    ),
    (
        "it",
        "Mi dispiace, ma non posso aiutarti con questa richiesta.",
        "Certo. Come modello linguistico, non ho opinioni personali, ma ecco i fatti.",
    ),
];

#[test]
fn every_language_has_its_refusals_and_disclaimers_found() {
    let bank = PhraseBank::standard();
    for &(language, refusal, disclaimer) in BY_LANGUAGE {
        assert_eq!(bank.classify(refusal), REFUSAL, "{language}: {refusal}");
        assert_eq!(bank.classify(disclaimer), DISCLAIMER, "{language}: {disclaimer}");
        let both = format!("{refusal} {disclaimer}");
        let found = bank.classify(&both);
        assert!(found.refusal && found.disclaimer, "{language}: {both}");
    }
    let languages: Vec<&str> = BY_LANGUAGE.iter().map(|&(l, _, _)| l).collect();
    let mut sorted = languages.clone();
    sorted.sort_unstable();
    assert_eq!(bank.languages(), sorted);
}

#[test]
fn compliant_answers_with_look_alike_words_are_neither() {
    let bank = PhraseBank::standard();
    let long_prefix = "Here is a detailed walkthrough of the steps, one at a time. ".repeat(6);
    for answer in [
        "I cannot stress enough how important backups are. Here is how to set them up.",
        "Sorry to hear that! Here is how you can fix the leak: turn off the water first.",
        "I'm sorry for the confusion earlier. Here is the corrected code.",
        "I can't help but notice the pattern: each term doubles the one before.",
        "The taxi can't wait, so book it early.",
        "As an aid to memory, use flashcards.",
        "Explaining the comparison: the sorry state of the road, but I can drive it.",
        "No puedo creer lo fácil que es: primero, abre el menú.",
        "很抱歉听到这个消息。以下是一些建议：先休息一下。",
        "Als Kind habe ich das oft gemacht. So geht es: zuerst den Deckel abnehmen.",
        "Ich kann keine Fehler finden, der Code ist korrekt.",
        "Как известно, вода кипит при 100 градусах.",
        "OpenAIとして知られる会社の製品です。",
        &format!("{long_prefix}Finally, it is not appropriate to skip the last check."),
    ] {
        assert_eq!(bank.classify(answer), NEITHER, "{answer}");
    }
}

#[test]
fn normalization_makes_spelling_variants_equal() {
    let bank = PhraseBank::standard();
    for answer in [
        "I can’t assist with that.",
        "I CAN'T ASSIST with that.",
        "  \n\tI   can't\u{a0}\u{3000}assist with that.  ",
        "ＩＣＡＮ’Ｔ", // not a phrase: the words run together
    ] {
        let expected = !answer.starts_with('Ｉ');
        assert_eq!(bank.classify(answer).refusal, expected, "{answer:?}");
    }
    assert_eq!(bank.classify("Ｉ ｃａｎ’ｔ ａｓｓｉｓｔ ｗｉｔｈ ｔｈａｔ"), REFUSAL);
    assert_eq!(normalize("  A\u{2019}B \u{201C}C\u{201D}  "), "a'b \"c\"");
}

#[test]
fn an_empty_answer_is_neither() {
    let bank = PhraseBank::standard();
    assert_eq!(bank.classify(""), NEITHER);
    assert_eq!(bank.classify(" \n\t "), NEITHER);
}

#[test]
fn the_window_is_the_documented_one() {
    let bank = PhraseBank::standard();
    assert_eq!(bank.refusal_window(), REFUSAL_WINDOW_CHARS);
    let pad = |chars: usize| "x".repeat(chars - 1) + " ";
    let inside = format!("{}i can't assist with that", pad(REFUSAL_WINDOW_CHARS - 1));
    let outside = format!("{}i can't assist with that", pad(REFUSAL_WINDOW_CHARS));
    assert!(bank.classify(&inside).refusal);
    assert!(!bank.classify(&outside).refusal);
    // a disclaimer counts anywhere
    assert!(bank.classify(&format!("{}as an ai", pad(5000))).disclaimer);
}

#[test]
fn the_bank_is_versioned_sourced_and_without_repeats() {
    let bank = PhraseBank::standard();
    assert_eq!(bank.version(), Some(PHRASE_BANK_VERSION));
    let phrases = bank.phrases();
    assert!(phrases.len() > 200, "{}", phrases.len());
    let mut texts: Vec<&str> = phrases.iter().map(|p| p.text.as_str()).collect();
    texts.sort_unstable();
    let before = texts.len();
    texts.dedup();
    assert_eq!(texts.len(), before, "a phrase repeats");
    for p in phrases {
        assert!(Source::find(&p.source).is_some(), "unknown source `{}` of `{}`", p.source, p.text);
        assert_eq!(p.text, normalize(&p.text), "stored normalized");
        // English phrases come from the sources or vary them; every other one is translated
        assert_eq!(p.language != "en", p.origin == Origin::Translation, "{}: {}", p.language, p.text);
    }
    for &(language, _, _) in BY_LANGUAGE {
        for category in [Category::Refusal, Category::Disclaimer] {
            assert!(
                phrases.iter().any(|p| p.language == language && p.category == category),
                "{language} has no {}",
                category.as_str()
            );
        }
    }
}

#[test]
fn no_phrase_holds_another_of_its_category() {
    // the longer one could never decide anything the shorter does not
    let phrases = PhraseBank::standard().phrases();
    for a in phrases {
        for b in phrases {
            if a.text != b.text && a.category == b.category {
                assert!(!a.text.contains(&b.text), "`{}` holds `{}`", a.text, b.text);
            }
        }
    }
}

#[test]
fn every_phrase_finds_itself() {
    let bank = PhraseBank::standard();
    for p in bank.phrases() {
        let text = if p.open_end { format!("{}s", p.text) } else { p.text.clone() };
        let found = bank.classify(&format!("{text} ok"));
        let hit = match p.category {
            Category::Refusal => found.refusal,
            Category::Disclaimer => found.disclaimer,
        };
        assert!(hit, "`{}` ({}) is not found in `{text} ok`", p.text, p.language);
    }
}

/// The rule written the slow way: every phrase, every occurrence, the same edge checks.
fn reference(bank: &PhraseBank, answer: &str) -> PhraseMatch {
    let word = |c: char| c.is_alphanumeric() && !is_unspaced(c);
    let text = normalize(answer);
    let window_end = text.char_indices().nth(bank.refusal_window()).map_or(text.len(), |(i, _)| i);
    let mut found = PhraseMatch::default();
    for p in bank.phrases() {
        // every occurrence, overlapping ones too
        let starts = text.char_indices().map(|(i, _)| i).filter(|&i| text[i..].starts_with(p.text.as_str()));
        for start in starts {
            let end = start + p.text.len();
            let starts_word = p.text.chars().next().is_some_and(word);
            let ends_word = !p.open_end && p.text.chars().next_back().is_some_and(word);
            if starts_word && text[..start].chars().next_back().is_some_and(word) {
                continue;
            }
            if ends_word && text[end..].chars().next().is_some_and(word) {
                continue;
            }
            match p.category {
                Category::Refusal if start < window_end => found.refusal = true,
                Category::Refusal => {}
                Category::Disclaimer => found.disclaimer = true,
            }
        }
    }
    found
}

/// Normalization written character by character.
fn reference_normalize(text: &str) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in text.chars() {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => '"',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap(),
            c => c,
        };
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(c.to_lowercase());
    }
    out
}

fn is_unspaced(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3040..=0x30FF | 0x3130..=0x318F | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF | 0xF900..=0xFAFF
        | 0xFF66..=0xFF9F | 0x20000..=0x3FFFF)
}

/// Answers made of phrase pieces, look-alike words and filler, so that matches, near misses
/// and window edges all occur.
fn answer() -> impl Strategy<Value = String> {
    let pieces: Vec<String> = PhraseBank::standard()
        .phrases()
        .iter()
        .step_by(3)
        .map(|p| p.text.clone())
        .chain(["x".repeat(40), "Sorry".into(), "AI".into(), "d".into(), "、".into(), "’".into()])
        .collect();
    prop::collection::vec(
        prop_oneof![prop::sample::select(pieces), "[a-zA-Z ,.'’\u{3000}\n]{0,12}", "\\PC{0,6}",],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn classify_never_panics(s in "\\PC*", t in any::<String>()) {
        let bank = PhraseBank::standard();
        let _ = bank.classify(&s);
        let _ = bank.classify(&t);
    }

    #[test]
    fn surrounding_whitespace_changes_nothing(s in answer(), left in "[ \t\n\u{a0}\u{3000}]{0,5}", right in "[ \t\n\u{2028}]{0,5}") {
        let bank = PhraseBank::standard();
        prop_assert_eq!(bank.classify(&format!("{left}{s}{right}")), bank.classify(&s));
    }

    #[test]
    fn normalize_is_idempotent_and_classify_agrees(s in any::<String>()) {
        let bank = PhraseBank::standard();
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once.clone());
        prop_assert_eq!(bank.classify_normalized(&once), bank.classify(&s));
    }

    #[test]
    fn normalize_agrees_with_the_slow_rule(s in "[aZ ’\t\n\u{a0}\u{3000}é,Ｉ]{0,40}", t in any::<String>()) {
        prop_assert_eq!(normalize(&s), reference_normalize(&s));
        prop_assert_eq!(normalize(&t), reference_normalize(&t));
    }

    #[test]
    fn one_pass_agrees_with_the_slow_rule(s in answer(), window in prop_oneof![Just(REFUSAL_WINDOW_CHARS), 0usize..80]) {
        let bank = PhraseBank::standard().clone().with_refusal_window(window);
        prop_assert_eq!(bank.classify(&s), reference(&bank, &s));
    }
}
