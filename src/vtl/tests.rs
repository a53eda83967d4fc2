//! The engine as templates see it: each test renders a template and checks the text.

use std::rc::Rc;
use std::time::Duration;

use super::apigateway::{Input, Params, Util};
use super::value::{MapEntries, Value};
use super::*;

fn vars_with(body: &str) -> Vars {
    let params = Params {
        path: vec![("id".into(), "42".into())],
        querystring: vec![("q".into(), "search me".into())],
        header: vec![("x-user".into(), "ann".into())],
    };
    let mut vars = Vars::default();
    vars.insert(
        "input".into(),
        Value::Object(Rc::new(Input::new(body.as_bytes(), params))),
    );
    vars.insert("util".into(), Value::Object(Rc::new(Util)));
    let mut ctx = MapEntries::default();
    ctx.insert(Rc::from("requestId"), Value::from("req-1"));
    vars.insert("context".into(), Value::map(ctx));
    vars
}

fn render_with(src: &str, body: &str) -> Result<String, Error> {
    Template::parse(src)?.render(&vars_with(body), &Limits::default())
}

fn render(src: &str) -> String {
    render_with(
        src,
        r#"{"name": "Ann", "items": [1, 2, 3], "nested": {"k": "v"}}"#,
    )
    .unwrap()
}

#[test]
fn references_print_their_values_and_null_prints_nothing() {
    assert_eq!(
        render("$context.requestId|$!missing|${context.requestId}x|$missing.deeper"),
        "req-1||req-1x|"
    );
    assert_eq!(render("cost: $5 #notadirective"), "cost: $5 #notadirective");
    // Map paths print in place; everything else goes through the evaluator: both print alike.
    assert_eq!(
        render(
            "#set($b = $input.path('$'))$b.nested.k|$b.nested|$b.nested.k.length()|$b.items|$b.name.x|$b.none.x"
        ),
        "v|{k=v}|1|[1,2,3]||"
    );
    assert_eq!(
        render("#set($h = $input.params().header)$h.X-USER|$h.x-user|$h.get('X-User')|$h.other"),
        "ann|ann|ann|"
    );
}

#[test]
fn set_if_elseif_else() {
    let src = "#set($n = 3)\n#if($n > 5)\nbig\n#elseif($n == 3)\nthree\n#else\nsmall\n#end\n";
    assert_eq!(render(src), "three\n");
    assert_eq!(render("#if(!$missing && ($n || true))yes#{else}no#end"), "yes");
    assert_eq!(
        render("#if($missing == '')empty#end #if($missing == $null)null#end"),
        "empty null"
    );
}

#[test]
fn foreach_with_loop_variables_and_break() {
    let src = "#foreach($i in [1..5])$i#if($foreach.hasNext),#end#end";
    assert_eq!(render(src), "1,2,3,4,5");
    assert_eq!(
        render("#foreach($i in ['a','b'])$velocityCount:$i:$foreach.index #end"),
        "1:a:0 2:b:1 "
    );
    assert_eq!(render("#foreach($i in [1..9])#if($i == 3)#break#end$i#end"), "12");
    assert_eq!(render("#foreach($v in {'a': 1, 'b': 2})$v#end"), "12");
    assert_eq!(render("#set($i = 'kept')#foreach($i in [1])#end$i"), "kept");
}

#[test]
fn stop_ends_the_output() {
    assert_eq!(render("a#foreach($i in [1,2])$i#stop#end b"), "a1");
}

#[test]
fn define_and_macros() {
    assert_eq!(
        render("#define($greet)hi $who#end#set($who = 'bo')$greet"),
        "hi bo"
    );
    let src = "#macro(pair $k $v)\"$k\": \"$v\"#end{#pair('a' 1), #pair('b', $context.requestId)}";
    assert_eq!(render(src), r#"{"a": "1", "b": "req-1"}"#);
}

#[test]
fn comments_escapes_and_raw_blocks() {
    assert_eq!(render("a## gone\nb#* gone *#c"), "abc");
    assert_eq!(render("\\$context.requestId \\#if"), "$context.requestId #if");
    assert_eq!(render("#[[#if($x) $y]]#"), "#if($x) $y");
}

#[test]
fn arithmetic_and_comparisons() {
    assert_eq!(
        render("#set($a = 7)$math${a}:#set($b = $a / 2)$b,#set($c = $a % 4)$c,#set($d = $a * 1.5)$d"),
        "7:3,3,10.5"
    );
    assert_eq!(render("#set($s = 'a' + 1 + 'b')$s"), "a1b");
    assert_eq!(
        render("#if(2 == 2.0 && 'b' > 'a' && 3 ge 3 && 1 lt 2)ok#end"),
        "ok"
    );
    assert_eq!(render("#set($z = 1 / 0)[$z]"), "[]");
    assert_eq!(
        render("#if($input.params('id') > 40)numeric strings compare#end"),
        "numeric strings compare"
    );
}

#[test]
fn string_methods() {
    let src = "#set($s = ' Hello World ')$s.trim().toLowerCase()|$s.length()|$s.contains('World')|\
               $s.trim().substring(0, 5)|$s.replaceAll('o(.)', '0$1')|$s.replace('l', 'L')|\
               $s.indexOf('o')|$s.trim().split(' ').size()|$s.trim().startsWith('He')|$s.isEmpty()";
    assert_eq!(
        render(src),
        "hello world|13|true|Hello| Hell0 W0rld | HeLLo WorLd |5|2|true|false"
    );
    assert_eq!(
        render("$util.escapeJavaScript(\"it's\").replaceAll(\"\\\\'\",\"'\")"),
        "it's"
    );
    assert!(render_with("$context.requestId.substring(9)", "").is_err());
}

#[test]
fn lists_and_maps() {
    let src = "#set($l = [])#set($ok = $l.add('x'))#set($ok = $l.add('y'))$l $l.size() $l.get(1) $l[0] $l.contains('y')";
    assert_eq!(render(src), "[x, y] 2 y x true");
    let src = "#set($m = {'a': 1})#set($m.b = 2)#set($m['c'] = 3)$m.put('d', 4)$m $m.keySet() $m.size() $m.containsKey('c')";
    assert_eq!(render(src), "{a=1, b=2, c=3, d=4} [a, b, c, d] 4 true");
    assert_eq!(
        render("#set($m = {'k': 'v'})#foreach($e in $m.entrySet())$e.key=$e.value#end"),
        "k=v"
    );
}

#[test]
fn interpolated_strings() {
    assert_eq!(
        render("#set($g = \"id=$input.params('id') #if(true)yes#end\")$g"),
        "id=42 yes"
    );
    assert_eq!(render("#set($q = 'single $notparsed')$q"), "single $notparsed");
}

#[test]
fn input_variables() {
    assert_eq!(render("$input.json('$.nested')"), r#"{"k":"v"}"#);
    assert_eq!(render("$input.path('$.nested')"), "{k=v}");
    assert_eq!(render("$input.path('$.items').size()"), "3");
    assert_eq!(render("#foreach($i in $input.path('$.items'))$i;#end"), "1;2;3;");
    assert_eq!(render("$input.json('$.name')"), "\"Ann\"");
    assert_eq!(
        render("$input.params('id')/$input.params('q')/$input.params('X-User')"),
        "42/search me/ann"
    );
    assert_eq!(
        render("$input.params().path.id $input.params().header.get('X-USER')"),
        "42 ann"
    );
    assert_eq!(render_with("$input.body|$input.json('$')", "").unwrap(), "{}|{}");
    let err = render_with("$input.json('$')", "not json").unwrap_err();
    assert!(matches!(err, Error::InvalidInput(m) if m.starts_with("Could not parse request body into json")));
}

#[test]
fn util_functions() {
    assert_eq!(
        render("$util.urlEncode('a b&c')|$util.urlDecode('a+b%26c')"),
        "a+b%26c|a b&c"
    );
    assert_eq!(
        render("$util.base64Encode('hi?')|$util.base64Decode('aGk/')"),
        "aGk/|hi?"
    );
    assert_eq!(
        render("#set($j = $util.parseJson('{\"a\":[1,{\"b\":2}]}'))$j.a[1].b $j"),
        r#"2 {a=[1,{"b":2}]}"#
    );
    assert_eq!(
        render("$util.escapeJavaScript('line\nnext \"q\"')"),
        "line\\nnext \\\"q\\\""
    );
}

#[test]
fn directive_lines_leave_no_blank_lines() {
    let src =
        "{\n  #set($x = 1)\n  #foreach($i in [1,2])\n  \"k$i\": $x#if($foreach.hasNext),#end\n\n  #end\n}";
    assert_eq!(render(src), "{\n  \"k1\": 1,\n\n  \"k2\": 1\n\n}");
}

#[test]
fn loops_stop_at_the_iteration_cap() {
    let out = render("#foreach($i in [1..5000])x#end");
    assert_eq!(out.len(), 1000);
}

#[test]
fn huge_output_is_an_error() {
    let src = "#set($s = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')\
               #foreach($i in [1..40])#set($s = \"$s$s\")#end$s";
    assert_eq!(render_with(src, ""), Err(Error::Limit("output size")));
    let src = "#foreach($a in [1..1000])#foreach($b in [1..1000])xxxxxxxxxxxxxxxxxxxx#end#end";
    assert!(matches!(render_with(src, ""), Err(Error::Limit(_))));
}

#[test]
fn long_running_templates_are_stopped() {
    let limits = Limits {
        max_time: Duration::from_millis(20),
        ..Limits::default()
    };
    let src = "#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..1000])#end#end#end";
    let t = Template::parse(src).unwrap();
    assert_eq!(
        t.render(&Vars::default(), &limits),
        Err(Error::Limit("evaluation time"))
    );
}

#[test]
fn runaway_recursion_and_ranges_are_errors() {
    assert_eq!(
        render_with("#macro(f $n)#f($n)#end#f(1)", ""),
        Err(Error::Limit("macro or #define recursion"))
    );
    assert_eq!(
        render_with("#define($d)$d#end$d", ""),
        Err(Error::Limit("macro or #define recursion"))
    );
    assert_eq!(
        render_with("#set($r = [1..100000000])", ""),
        Err(Error::Limit("range size"))
    );
}

#[test]
fn the_template_knows_its_variables() {
    let t = Template::parse("#set($a = \"$context.x\")$input.body").unwrap();
    assert!(t.uses("context") && t.uses("input") && t.uses("a"));
    assert!(!t.uses("util"));
}

/// The parser and evaluator never panic, whatever the template, and a render that succeeds
/// stays within its output limit. `PROPTEST_CASES=200000 cargo test --lib vtl::tests::fuzz`
/// runs it for longer.
mod fuzz {
    use proptest::prelude::*;

    use super::*;

    /// Template text made of VTL's building blocks, so that most cases get past the first token.
    fn template() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("#if(".to_owned()),
            Just("#elseif(".to_owned()),
            Just("#else".to_owned()),
            Just("#end".to_owned()),
            Just("#foreach($i in ".to_owned()),
            Just("#set($".to_owned()),
            Just("#macro(m $a)".to_owned()),
            Just("#m(".to_owned()),
            Just("#define($d)".to_owned()),
            Just("#break".to_owned()),
            Just("#stop".to_owned()),
            Just("##".to_owned()),
            Just("#*".to_owned()),
            Just("*#".to_owned()),
            Just("#[[".to_owned()),
            Just("]]#".to_owned()),
            Just("$input.json('$.a')".to_owned()),
            Just("$input.path('$.a[*]')".to_owned()),
            Just("$input.params('x')".to_owned()),
            Just("$util.escapeJavaScript(".to_owned()),
            Just("$util.parseJson(".to_owned()),
            Just("$context.requestOverride.header.x".to_owned()),
            Just(".substring(".to_owned()),
            Just(".replaceAll('a+', '$1')".to_owned()),
            Just(".split(".to_owned()),
            Just("$i".to_owned()),
            Just("$d".to_owned()),
            Just("${".to_owned()),
            Just("$!".to_owned()),
            Just("[1..9]".to_owned()),
            Just("{'k': $i}".to_owned()),
            Just("\\".to_owned()),
            "[()\\[\\]{},=.+*/%<>!&|\"' \n0-9a-z$#-]{1,4}",
            "\\PC{0,3}",
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(crate::fuzzing::config(1000))]

        #[test]
        fn parsing_and_rendering_never_panic(src in template()) {
            if let Ok(t) = Template::parse(&src) {
                let limits = Limits {
                    max_output: 64 << 10,
                    max_time: Duration::from_millis(100),
                    ..Limits::default()
                };
                let vars = vars_with(r#"{"a": [1, {"b": "c"}, "d"], "x": "y"}"#);
                if let Ok(out) = t.render(&vars, &limits) {
                    prop_assert!(out.len() <= limits.max_output);
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(src in "\\PC{0,300}") {
            if let Ok(t) = Template::parse(&src) {
                let _ = t.render(&vars_with(""), &Limits::default());
            }
        }
    }
}
