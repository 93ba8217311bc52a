//! The XML events the nmap reader works with, over quick-xml behind the [`Guard`]: start tags with
//! unescaped attributes (empty elements come as a start and an end), end tags, text, end of file. The
//! nesting limit, the entity policy and every quick-xml error are turned into [`ImportError`]s here.

use std::io::BufRead;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event as XmlEvent};

use super::values::Element;
use crate::import::guard::{Guard, Tripped};
use crate::import::{ImportError, Limits, Position};

#[derive(Debug)]
pub(crate) enum Event {
    Start(Element),
    End(String),
    Text(String),
    Eof,
}

pub(crate) struct Events<R: BufRead> {
    xml: quick_xml::Reader<Guard<R>>,
    buf: Vec<u8>,
    depth: usize,
    limits: Limits,
    /// Names of the open elements, for "ends early inside <...>".
    open: Vec<String>,
}

impl<R: BufRead> Events<R> {
    pub fn new(input: R, limits: Limits) -> Self {
        let mut xml = quick_xml::Reader::from_reader(Guard::new(input, limits));
        let config = xml.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.check_comments = false;
        Events { xml, buf: Vec::new(), depth: 0, limits, open: Vec::new() }
    }

    pub fn position(&self) -> Position {
        position_of(&self.xml)
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn error_at(&self, offset: u64) -> Position {
        Position { offset, line: self.xml.get_ref().line() }
    }

    /// The next event.
    pub fn next(&mut self) -> Result<Event, ImportError> {
        loop {
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(err) => {
                    let guard = self.xml.get_ref();
                    let line = guard.line();
                    return Err(match guard.tripped() {
                        Some(Tripped::TooLarge(offset)) => {
                            ImportError::TooLarge { at: Position { offset, line }, limit: self.limits.max_bytes }
                        }
                        Some(Tripped::TokenTooLong(offset)) => {
                            ImportError::TokenTooLong { at: Position { offset, line }, limit: self.limits.max_token }
                        }
                        None => match err {
                            quick_xml::Error::Io(source) => ImportError::Io {
                                at: self.position(),
                                source: std::io::Error::new(source.kind(), source.to_string()),
                            },
                            quick_xml::Error::Syntax(_) if !self.open.is_empty() => ImportError::Truncated {
                                at: self.error_at(self.xml.error_position()),
                                inside: self.open.last().cloned().unwrap_or_default(),
                            },
                            other => ImportError::Syntax {
                                at: self.error_at(self.xml.error_position()),
                                message: other.to_string(),
                            },
                        },
                    });
                }
            };
            match event {
                XmlEvent::Start(start) => {
                    let at = position_of(&self.xml);
                    let element = element(&start, at)?;
                    self.depth += 1;
                    if self.depth > self.limits.max_depth {
                        return Err(ImportError::TooDeep { at, limit: self.limits.max_depth });
                    }
                    self.open.push(element.name.clone());
                    return Ok(Event::Start(element));
                }
                XmlEvent::End(end) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.open.pop();
                    return Ok(Event::End(end.name().as_ref().to_string()));
                }
                XmlEvent::Empty(_) => {} // never: empty elements are expanded
                XmlEvent::Text(text) => {
                    let text = text.xml10_content();
                    if !text.is_empty() {
                        return Ok(Event::Text(text.into_owned()));
                    }
                }
                XmlEvent::CData(data) => {
                    return Ok(Event::Text(data.into_inner().into_owned()));
                }
                XmlEvent::GeneralRef(reference) => {
                    let at = position_of(&self.xml);
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match resolve_predefined_entity(&reference.into_inner()) {
                            Some(s) => s.to_string(),
                            None => return Err(ImportError::Entity { at, what: "a reference to an entity".into() }),
                        },
                        Err(e) => return Err(ImportError::Syntax { at, message: e.to_string() }),
                    };
                    return Ok(Event::Text(resolved));
                }
                XmlEvent::DocType(doctype) => {
                    let content = doctype.as_ref().to_string();
                    if content.contains('[') || content.to_ascii_uppercase().contains("ENTITY") {
                        return Err(ImportError::Entity {
                            at: self.position(),
                            what: "the doctype has an internal subset".into(),
                        });
                    }
                }
                XmlEvent::Eof => return Ok(Event::Eof),
                XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::Comment(_) => {}
            }
        }
    }

    /// Reads past the end of the element whose start tag was the last event.
    pub fn skip_to_end(&mut self) -> Result<(), ImportError> {
        let mut depth = 1usize;
        while depth > 0 {
            match self.next()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => depth -= 1,
                Event::Text(_) => {}
                Event::Eof => {
                    return Err(ImportError::Truncated {
                        at: self.position(),
                        inside: self.open.last().cloned().unwrap_or_default(),
                    });
                }
            }
        }
        Ok(())
    }
}

fn position_of<R: BufRead>(xml: &quick_xml::Reader<Guard<R>>) -> Position {
    Position { offset: xml.buffer_position(), line: xml.get_ref().line() }
}

/// The start tag's name and attributes, unescaped; an undefined entity in a value is refused.
fn element(start: &BytesStart<'_>, at: Position) -> Result<Element, ImportError> {
    let name = start.name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| ImportError::Syntax { at, message: e.to_string() })?;
        let key = attr.key.as_ref().to_string();
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| match e {
            quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(..)) => {
                ImportError::Entity { at, what: format!("a reference to an entity in attribute {key}") }
            }
            other => ImportError::Syntax { at, message: other.to_string() },
        })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element { name, attrs, at })
}
