//! The plain text (lines or paragraphs) reader (`tailwatch_io::DocReader`): byte 0 picks the read options, the rest is
//! the input. Any input gives records or an `Err`, never a panic; records keep their promises
//! (`tailwatch_fuzz::drain`); and the batch size never changes what is read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailwatch_fuzz::{read_bytes, read_options};
use tailwatch_io::Format;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, input)) = data.split_first() else { return };
    let options = read_options(Format::Text, flags);
    let read = read_bytes("input.text", input.to_vec(), &options);
    let other =
        tailwatch_io::ReadOptions { batch_bytes: options.batch_bytes ^ (1 << 16 | 1), ..options.clone() };
    let again = read_bytes("input.text", input.to_vec(), &other);
    match (read, again) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the batch size changed the records"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("the batch size changed the outcome: {a:?} vs {b:?}"),
    }
});
