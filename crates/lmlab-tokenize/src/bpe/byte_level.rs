//! The byte-to-character mapping of GPT-2 / Hugging Face `ByteLevel`: every byte gets a printable
//! Unicode character, so a token's bytes can be written as a string (`Ġ` is the space, `Ċ` the
//! newline). lmlab uses it for token strings in vocabularies and files, and for the order of the
//! base alphabet: base id = rank of the byte's character among the 256 characters (as Hugging Face
//! sorts its initial alphabet), which fixes the training tie-breaks.

use std::sync::OnceLock;

/// The character that stands for `byte` (Hugging Face `bytes_char`).
pub fn byte_char(byte: u8) -> char {
    tables().byte_char[byte as usize]
}

/// The byte a ByteLevel character stands for, if it is one.
pub fn char_byte(c: char) -> Option<u8> {
    tables().char_byte.get(&c).copied()
}

/// The ByteLevel string of `bytes`.
pub fn bytes_to_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| byte_char(b)).collect()
}

/// The bytes of a ByteLevel string, or `None` when a character is not a ByteLevel character.
pub fn string_to_bytes(text: &str) -> Option<Vec<u8>> {
    text.chars().map(char_byte).collect()
}

/// The base id (0–255) of each byte: the rank of its ByteLevel character.
pub fn byte_base_ids() -> &'static [u32; 256] {
    &tables().base_id
}

/// The byte of each base id (inverse of [`byte_base_ids`]).
pub fn base_id_bytes() -> &'static [u8; 256] {
    &tables().base_byte
}

struct Tables {
    byte_char: [char; 256],
    char_byte: std::collections::HashMap<char, u8>,
    base_id: [u32; 256],
    base_byte: [u8; 256],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut byte_char = ['\0'; 256];
        let mut extra = 0u32;
        for b in 0..=255u8 {
            let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
            byte_char[b as usize] = if printable {
                char::from(b)
            } else {
                let c = char::from_u32(256 + extra).expect("valid scalar");
                extra += 1;
                c
            };
        }
        let char_byte = (0..=255u8).map(|b| (byte_char[b as usize], b)).collect();
        let mut order: Vec<u8> = (0..=255u8).collect();
        order.sort_by_key(|&b| byte_char[b as usize]);
        let mut base_id = [0u32; 256];
        let mut base_byte = [0u8; 256];
        for (rank, &b) in order.iter().enumerate() {
            base_id[b as usize] = rank as u32;
            base_byte[rank] = b;
        }
        Tables {
            byte_char,
            char_byte,
            base_id,
            base_byte,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_mapping_and_order() {
        assert_eq!(byte_char(b' '), 'Ġ');
        assert_eq!(byte_char(b'\n'), 'Ċ');
        assert_eq!(byte_char(b'a'), 'a');
        assert_eq!(char_byte('Ġ'), Some(b' '));
        assert_eq!(byte_base_ids()[b'!' as usize], 0);
        assert_eq!(base_id_bytes()[0], b'!');
        let s = bytes_to_string("é\n".as_bytes());
        assert_eq!(string_to_bytes(&s).unwrap(), "é\n".as_bytes());
    }
}
