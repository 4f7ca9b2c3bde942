//! The filter language shared by the console's `/`, `triage list --filter` and exports:
//! words and "phrases", `field:value`, `-` negation, `OR`, parentheses. Juxtaposition is AND.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Status,
    Source,
    Crime,
    Party,
    Flag,
    Type,
    By,
    Captured,
    Received,
    Near,
    Dup,
    /// `family:T-000120`: the whole family the item belongs to (its containers, and all
    /// their members).
    Family,
    /// `in:T-000120`: the members of a container, at any depth.
    In,
    /// `incident:I-0001`: the items linked to an incident; `incident:none`, to none.
    Incident,
}

impl Field {
    const ALL: &'static [(&'static str, Field)] = &[
        ("status", Field::Status),
        ("source", Field::Source),
        ("crime", Field::Crime),
        ("party", Field::Party),
        ("flag", Field::Flag),
        ("type", Field::Type),
        ("by", Field::By),
        ("captured", Field::Captured),
        ("received", Field::Received),
        ("near", Field::Near),
        ("dup", Field::Dup),
        ("family", Field::Family),
        ("in", Field::In),
        ("incident", Field::Incident),
    ];

    fn parse(name: &str) -> Option<Field> {
        let lower = name.to_ascii_lowercase();
        Self::ALL.iter().find(|(n, _)| *n == lower).map(|(_, f)| *f)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A free word: matches, as a prefix, a word of the names, metadata values or notes.
    Text(String),
    /// A "quoted phrase": its words, in order.
    Phrase(String),
    Field {
        field: Field,
        value: String,
        /// Character position of the value, for error messages.
        pos: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character position (0-based) where the problem is.
    pub pos: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "at {}: {}", self.pos + 1, self.message)
    }
}

impl ParseError {
    /// The expression with a caret under the problem, for a terminal.
    pub fn pointer(&self, input: &str) -> String {
        format!("{input}\n{}^ {}", " ".repeat(self.pos), self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Minus,
    Or,
    Word(String),
    Quoted(String),
    Field(Field, String, usize),
}

fn tokenize(input: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            '(' => {
                out.push((i, Tok::Open));
                i += 1;
            }
            ')' => {
                out.push((i, Tok::Close));
                i += 1;
            }
            '-' if chars.get(i + 1).is_some_and(|n| !n.is_whitespace()) => {
                out.push((i, Tok::Minus));
                i += 1;
            }
            '"' => {
                let (s, next) = quoted(&chars, i)?;
                out.push((start, Tok::Quoted(s)));
                i = next;
            }
            _ => {
                while i < chars.len() && !chars[i].is_whitespace() && !matches!(chars[i], '(' | ')')
                {
                    if chars[i] == ':' {
                        break;
                    }
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if i < chars.len() && chars[i] == ':' && word.chars().all(|c| c.is_alphabetic()) {
                    let field = Field::parse(&word).ok_or_else(|| ParseError {
                        pos: start,
                        message: format!(
                            "unknown field `{word}:`; expected one of {}",
                            Field::ALL
                                .iter()
                                .map(|(n, _)| format!("{n}:"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                    })?;
                    i += 1;
                    let vpos = i;
                    let value = if chars.get(i) == Some(&'"') {
                        let (s, next) = quoted(&chars, i)?;
                        i = next;
                        s
                    } else {
                        let vs = i;
                        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ')' {
                            i += 1;
                        }
                        chars[vs..i].iter().collect()
                    };
                    if value.is_empty() {
                        return Err(ParseError {
                            pos: vpos,
                            message: format!("expected a value after `{word}:`"),
                        });
                    }
                    out.push((start, Tok::Field(field, value, vpos)));
                } else {
                    // A colon inside a word (a time, a URL) is part of the word.
                    while i < chars.len()
                        && !chars[i].is_whitespace()
                        && !matches!(chars[i], '(' | ')')
                    {
                        i += 1;
                    }
                    let word: String = chars[start..i].iter().collect();
                    out.push((
                        start,
                        if word == "OR" {
                            Tok::Or
                        } else {
                            Tok::Word(word)
                        },
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn quoted(chars: &[char], open: usize) -> Result<(String, usize), ParseError> {
    let mut i = open + 1;
    let mut s = String::new();
    while i < chars.len() && chars[i] != '"' {
        s.push(chars[i]);
        i += 1;
    }
    if i >= chars.len() {
        return Err(ParseError {
            pos: open,
            message: "this quote is never closed; expected a closing `\"`".into(),
        });
    }
    Ok((s, i + 1))
}

pub fn parse(input: &str) -> Result<Option<Expr>, ParseError> {
    let toks = tokenize(input)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let end = input.chars().count();
    let mut p = Parser {
        toks,
        i: 0,
        end,
        depth: 0,
    };
    let e = p.or()?;
    if let Some((pos, t)) = p.toks.get(p.i) {
        let message = match t {
            Tok::Close => "unmatched `)`".to_string(),
            _ => "unexpected text".to_string(),
        };
        return Err(ParseError { pos: *pos, message });
    }
    Ok(Some(e))
}

/// How deep `(` and `-` may nest. The parser, the SQL compiler and dropping the tree all
/// recurse, so an expression from a saved view or a pasted filter must not nest without end;
/// real filters nest two or three levels.
pub const MAX_DEPTH: usize = 64;

struct Parser {
    toks: Vec<(usize, Tok)>,
    i: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(_, t)| t)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|(p, _)| *p).unwrap_or(self.end)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.i += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut parts = Vec::new();
        while let Some(t) = self.peek() {
            if matches!(t, Tok::Or | Tok::Close) {
                break;
            }
            parts.push(self.unary()?);
        }
        match parts.len() {
            0 => Err(ParseError {
                pos: self.pos(),
                message: "expected a word, a \"phrase\", a field:value or `(`".into(),
            }),
            1 => Ok(parts.remove(0)),
            _ => Ok(Expr::And(parts)),
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        let Some((_, tok)) = self.toks.get(self.i).cloned() else {
            return Err(ParseError {
                pos,
                message: "expected a term".into(),
            });
        };
        self.i += 1;
        if matches!(tok, Tok::Minus | Tok::Open) {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(ParseError {
                    pos,
                    message: format!("nested more than {MAX_DEPTH} levels deep"),
                });
            }
        }
        let nests = matches!(tok, Tok::Minus | Tok::Open);
        let e = self.term(pos, tok);
        if nests {
            self.depth -= 1;
        }
        e
    }

    fn term(&mut self, pos: usize, tok: Tok) -> Result<Expr, ParseError> {
        match tok {
            Tok::Minus => Ok(Expr::Not(Box::new(self.unary()?))),
            Tok::Open => {
                let e = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(ParseError {
                        pos: self.pos(),
                        message: format!("expected `)` to close the `(` at {}", pos + 1),
                    });
                }
                self.i += 1;
                Ok(e)
            }
            Tok::Word(w) => Ok(Expr::Text(w)),
            Tok::Quoted(w) => Ok(Expr::Phrase(w)),
            Tok::Field(field, value, pos) => Ok(Expr::Field { field, value, pos }),
            Tok::Close | Tok::Or => Err(ParseError {
                pos,
                message: "expected a term here".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fields_and_or() {
        let e = parse("douma status:untriaged -flag:graphic OR \"barrel bomb\"")
            .unwrap()
            .unwrap();
        let Expr::Or(parts) = e else { panic!() };
        assert_eq!(parts.len(), 2);
        let Expr::And(a) = &parts[0] else { panic!() };
        assert_eq!(a[0], Expr::Text("douma".into()));
        assert!(
            matches!(&a[1], Expr::Field { field: Field::Status, value, .. } if value == "untriaged")
        );
        assert!(matches!(&a[2], Expr::Not(_)));
        assert_eq!(parts[1], Expr::Phrase("barrel bomb".into()));
    }

    #[test]
    fn nesting_is_bounded_with_a_clear_error() {
        let deep = format!("{}x{}", "(".repeat(20_000), ")".repeat(20_000));
        let e = parse(&deep).err().map(|e| e.message);
        assert_eq!(e.as_deref(), Some("nested more than 64 levels deep"));
        let nots = format!("{}x", "-".repeat(20_000));
        assert!(parse(&nots).is_err());
        let ok = format!("{}x{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("douma colour:red").unwrap_err();
        assert_eq!(e.pos, 6);
        assert!(e.message.contains("unknown field"));
        let e = parse("(a b").unwrap_err();
        assert_eq!(e.pos, 4);
        let e = parse("status:").unwrap_err();
        assert_eq!(e.pos, 7);
        let e = parse("a \"open").unwrap_err();
        assert_eq!(e.pos, 2);
        assert!(parse("a )").is_err());
        assert_eq!(parse("   ").unwrap(), None);
    }

    #[test]
    fn colons_in_words() {
        assert_eq!(parse("10:30").unwrap().unwrap(), Expr::Text("10:30".into()));
    }
}
