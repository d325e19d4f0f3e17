//! `#[plugin]` rejects wrong signatures at compile time, pointing at the
//! author's code, and accepts the documented ones.

#[test]
fn plugin_attribute_signatures() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass_*.rs");
    cases.compile_fail("tests/ui/fail_*.rs");
}
