//! The catalogue test: both catalogues parse without an error, define each id once, and have the same
//! messages, each with the same variables (`$name`) and the same attributes, none of them empty. English
//! counts the texts it takes from tojimari-core ([`crate::from_core`]), so a finding added to core's
//! catalogue without its Japanese fails here.

use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
use fluent_syntax::parser;

use crate::catalog::{message_ids, sources};
use crate::{Lang, TextArg, text_with};

/// What a message must agree on across languages.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    has_value: bool,
    variables: BTreeSet<String>,
    attributes: BTreeMap<String, BTreeSet<String>>,
}

fn variables_in(pattern: &Pattern<&str>, out: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(expression: &Expression<&str>, out: &mut BTreeSet<String>) {
    match expression {
        Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for variant in variants {
                variables_in(&variant.value, out);
            }
        }
        Expression::Inline(inline) => inline_variables(inline, out),
    }
}

fn inline_variables(inline: &InlineExpression<&str>, out: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_string());
        }
        InlineExpression::FunctionReference { arguments, .. } => {
            for arg in &arguments.positional {
                inline_variables(arg, out);
            }
            for arg in &arguments.named {
                inline_variables(&arg.value, out);
            }
        }
        InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}

/// Every message of a language's sources with its shape; fails on a syntax error or a duplicate id.
fn shapes(lang: Lang) -> BTreeMap<String, Shape> {
    let mut all = BTreeMap::new();
    for source in sources(lang) {
        let resource = match parser::parse(source.as_str()) {
            Ok(resource) => resource,
            Err((_, errors)) => panic!("{} catalogue does not parse: {errors:?}", lang.code()),
        };
        for entry in &resource.body {
            match entry {
                Entry::Message(message) => {
                    let mut variables = BTreeSet::new();
                    if let Some(value) = &message.value {
                        variables_in(value, &mut variables);
                    }
                    let attributes = message
                        .attributes
                        .iter()
                        .map(|a| {
                            let mut vars = BTreeSet::new();
                            variables_in(&a.value, &mut vars);
                            (a.id.name.to_string(), vars)
                        })
                        .collect();
                    let shape = Shape { has_value: message.value.is_some(), variables, attributes };
                    let id = message.id.name.to_string();
                    assert!(all.insert(id.clone(), shape).is_none(), "{} defines {id} twice", lang.code());
                }
                Entry::Junk { content } => panic!("{} catalogue has junk: {content}", lang.code()),
                _ => {}
            }
        }
    }
    all
}

#[test]
fn both_catalogues_have_the_same_messages_with_the_same_variables_and_attributes() {
    let en = shapes(Lang::En);
    let ja = shapes(Lang::Ja);
    let en_ids: BTreeSet<_> = en.keys().collect();
    let ja_ids: BTreeSet<_> = ja.keys().collect();
    let only_en: Vec<_> = en_ids.difference(&ja_ids).collect();
    let only_ja: Vec<_> = ja_ids.difference(&en_ids).collect();
    assert!(only_en.is_empty(), "messages missing from ja.ftl: {only_en:?}");
    assert!(only_ja.is_empty(), "messages in ja.ftl that English lacks: {only_ja:?}");
    for (id, shape) in &en {
        assert_eq!(Some(shape), ja.get(id), "{id}: English and Japanese differ in variables or attributes");
    }
    assert!(en.len() > 60, "{} messages", en.len());
}

#[test]
fn catalogues_load_without_errors_or_overrides() {
    for lang in Lang::ALL {
        let mut bundle = FluentBundle::new_concurrent(vec![lang.code().parse().unwrap()]);
        for source in sources(lang) {
            let resource = FluentResource::try_new(source).unwrap_or_else(|(_, e)| panic!("{e:?}"));
            bundle.add_resource(resource).unwrap_or_else(|e| panic!("{}: {e:?}", lang.code()));
        }
    }
}

#[test]
fn no_message_is_empty_in_either_language() {
    for lang in Lang::ALL {
        let ids = message_ids(lang);
        let shapes = shapes(lang);
        for id in ids {
            let shape = &shapes[id];
            assert!(shape.has_value, "{}: {id} has no value", lang.code());
            let args: Vec<(&str, TextArg)> = shape.variables.iter().map(|v| (v.as_str(), TextArg::Int(7))).collect();
            let text = text_with(lang, id, &args);
            assert!(!text.trim().is_empty() && text != id, "{}: {id} is empty", lang.code());
            assert!(!text.contains("{$"), "{}: {id} has a variable left unset: {text}", lang.code());
            for (attribute, vars) in &shape.attributes {
                let args: Vec<(&str, TextArg)> = vars.iter().map(|v| (v.as_str(), TextArg::Int(7))).collect();
                let text = crate::attribute_with(lang, id, attribute, &args);
                assert!(!text.trim().is_empty(), "{}: {id}.{attribute} is empty", lang.code());
            }
        }
    }
}

#[test]
fn japanese_is_japanese() {
    // A Japanese message that is the English text copied (a forgotten translation) fails, except the
    // ones that are the same in both languages by nature (names, protocol words).
    const SAME_IN_BOTH: &[&str] =
        &["check-col-syn", "check-col-fin", "check-col-null", "check-col-xmas", "trace-col-rtt"];
    for id in message_ids(Lang::En) {
        let args: Vec<(&str, TextArg)> = ["port", "count", "name"].map(|v| (v, TextArg::Int(1))).to_vec();
        let (en, ja) = (text_with(Lang::En, id, &args), text_with(Lang::Ja, id, &args));
        if !SAME_IN_BOTH.contains(&id) {
            assert_ne!(en, ja, "{id} is not translated");
        }
    }
}

#[test]
fn ids_lists_every_message_including_core_texts() {
    let ids: Vec<&str> = crate::ids().collect();
    assert!(ids.contains(&"nav-dashboard") && ids.contains(&"finding-redis-noauth-title"), "{ids:?}");
    assert!(ids.contains(&"raw-privilege"));
    assert!(ids.iter().all(|id| crate::has(id)));
}
