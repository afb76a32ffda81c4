import pytest

from tracer.dumps.siteinfo import SiteInfo
from tracer.wikitext.cleaner import WikitextCleaner
from tracer.wikitext.converter import resolve_converter
from tracer.wikitext.nested import drop_tables, drop_templates

SITE = SiteInfo(namespaces={0: "", 6: "Fichier", 14: "Catégorie"})


@pytest.fixture
def cleaner():
    return WikitextCleaner(SITE.prefixes())


@pytest.mark.parametrize(
    ("wikitext", "expected"),
    [
        ("A [[cat]]s sat.", "A cats sat."),
        ("See [[Paris|the capital]] now.", "See the capital now."),
        ("A [[File:x.jpg|thumb|a [[link]] inside]] B", "A B"),
        ("[[File:x.svg|thumb|caption]]At the end.", "At the end."),
        ("A [[Fichier:x.jpg|vignette]] B [[Catégorie:Villes]]", "A B"),
        ("Text.[[fr:Paris]][[zh-min-nan:Paris]]", "Text."),
        ("A [[:Category:Cities|cities list]].", "A cities list."),
        ("See also [[:Category:Cities]] and [[:Paris]].", "See also and Paris."),
        ("'''Bold''' and ''italic'' and '''''both'''''.", "Bold and italic and both."),
        ("Fact.<ref>{{cite web|url=x}}</ref> More<ref name=a/> text.", "Fact. More text."),
        ("A {{lang|fr|{{nested|x}}}} B", "A B"),
        ("A <!-- hidden [[x]] --> B", "A B"),
        ("Fish &amp; chips &lt;3 &eacute;", "Fish & chips <3 é"),
        ("A <math>x^2</math> B <code>y</code> C", "A B C"),
        ("[https://example.org label text] and [https://bare.example]", "label text and"),
        ("__NOTOC__Intro text", "Intro text"),
        ("Big <span style='x'>span</span> <small>small</small> <sup>1</sup>", "Big span 1"),
    ],
)
def test_inline_rules(cleaner, wikitext, expected):
    assert cleaner.paragraphs(wikitext) == [expected]


def test_lists_tables_and_empty_sections_are_dropped(cleaner):
    text = "\n".join(
        [
            "Lead paragraph.",
            "* list item",
            "# numbered",
            "{| class=wikitable",
            "| cell || {| nested |} cell",
            "|}",
            "== Empty ==",
            "== History ==",
            "=== Early ===",
            "Prose here.",
            ": indented text",
            "(parenthetical line)",
            "----",
        ]
    )
    assert cleaner.paragraphs(text) == ["Lead paragraph.", "History.", "Early.", "Prose here.", "indented text"]


def test_headings_can_be_left_out():
    assert WikitextCleaner(set(), keep_headings=False).paragraphs("== H ==\nText") == ["Text"]


def test_page_line_joins_title_and_paragraphs(cleaner):
    assert cleaner.page_line("Paris", "One.\n\nTwo.") == ("Paris One. Two.", 2)


def test_chinese_converter_markup_resolves_to_one_variant():
    assert resolve_converter("-{zh-tw:電腦;zh-cn:计算机}-") == "计算机"
    assert resolve_converter("A-{raw text}-B") == "Araw textB"
    assert resolve_converter("X-{H|zh-cn:伦敦;zh-tw:倫敦}-Y") == "XY"
    assert resolve_converter("-{A|zh-hant:軟體;zh-hans:软件}-") == "软件"
    assert resolve_converter("-{zh-tw:只有繁體}-") == "只有繁體"


def test_unbalanced_templates_and_tables_keep_the_text():
    assert drop_templates("a {{b c") == "a {{b c"
    assert drop_templates("a }} b {{x}} c") == "a }} b  c"
    assert drop_tables("a\n{|\n|x\n|}\nb") == "a\n\nb"


def test_nested_html_tables_are_dropped_whole(cleaner):
    text = "<table><tr><td><table><tr><td>inner</table>\n<tr><td>Length<td>1020 km\n</table>\nThe river flows."
    assert cleaner.paragraphs(text) == ["The river flows."]
    assert cleaner.paragraphs("A <div>x <div>y</div> z</div> B <ref>r</ref> C") == ["A B C"]
