"""Codebooks: the shipped one validates; every problem names file and line; round trips."""

import pytest

from coding import CodebookError, load_codebook, parse_codebook
from conftest import CODEBOOK, SHARED

GCPH_THEMES = ["relationships", "people_skills", "shifting_balance", "creating_conditions",
               "leadership"]


def test_shipped_gcph_codebook_is_complete():
    codebook = load_codebook(CODEBOOK)
    top = [code.id for code in codebook.codes if code.parent is None]
    assert top[:5] == GCPH_THEMES
    assert {c.id for c in codebook.children("asset_features")} == {
        "person_centred", "empowering", "flexible_responsive", "sharing_power",
        "relationship_focused", "building_confidence", "creating_opportunities",
        "community_connections"}
    assert [c.id for c in codebook.children("theory_of_change")] == [
        "reframing", "recognising", "mobilising", "coproducing"]
    assert {c.id for c in codebook.children("framing")} == {"asset_framing", "deficit_framing"}
    for code in codebook.codes:
        assert code.definition and code.inclusion and code.exclusion, code.id
        assert len(code.examples) >= 2 and code.keywords, code.id
    assert codebook.path("person_centred") == "asset_features/person_centred"


def test_shipped_examples_are_quotes_from_the_seed_texts():
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not present")
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt")))
    missing = [(code.id, example) for code in load_codebook(CODEBOOK).codes
               for example in code.examples if example not in corpus]
    assert missing == []


def write(tmp_path, content, name="book.yaml"):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def problems(path):
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    return str(info.value).splitlines()


def test_every_problem_is_reported_with_file_and_line(tmp_path):
    path = write(tmp_path, """\
codebook:
  id: test
codes:
  - id: trust
    name: Trust
    color: "#ff0000"
  - id: trust
    name: Trust again
  - id: power
    name: Power
    colour: red
  - id: voice
    name: Voice
    parent: relationship
  - id: relationships
    name: Relationships
""")
    assert problems(path) == [
        f"{path}:6: unknown field 'color'; did you mean 'colour'?",
        f"{path}:7: duplicate code id 'trust' (first defined on line 4)",
        f"{path}:11: colour 'red' of code 'power' is not '#rrggbb'",
        f"{path}:12: code 'voice' has parent 'relationship', which is not defined. "
        "Did you mean 'relationships'?",
    ]


def test_cycles_are_reported(tmp_path):
    path = write(tmp_path, """\
codes:
  - {id: a, name: A, parent: c}
  - {id: b, name: B, parent: a}
  - {id: c, name: C, parent: b}
""")
    assert problems(path) == [f"{path}:2: codes form a cycle: a -> c -> b -> a"]


def test_yaml_syntax_error_and_tags(tmp_path):
    broken = write(tmp_path, "codes:\n  - id: a\n    name: [unclosed\n", "broken.yaml")
    assert problems(broken)[0].startswith(f"{broken}:4: ")
    tagged = write(tmp_path, "codes: !!python/object/apply:os.system ['echo hi']\n",
                   "tagged.yaml")
    assert problems(tagged) == [f"{tagged}:1: YAML tags are not allowed (could not determine a "
                                "constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system')"]


def test_duplicate_keys_and_bad_regex(tmp_path):
    path = write(tmp_path, "codes:\n  - id: a\n    name: A\n    name: B\n")
    assert problems(path) == [f"{path}:4: key 'name' appears twice in one mapping (first on line 3)"]
    path = write(tmp_path, "codes:\n  - id: a\n    name: A\n    patterns: ['(unclosed']\n")
    assert problems(path)[0].startswith(f"{path}:4: pattern '(unclosed' of code 'a' is not a "
                                        "valid regular expression")


def test_not_a_mapping(tmp_path):
    path = write(tmp_path, "- just\n- a list\n")
    assert problems(path) == [f"{path}:1: must be a mapping with 'codebook:' and 'codes:' "
                              "(see README)"]


def test_nested_children_and_parent_field_are_equivalent():
    nested = parse_codebook("codes:\n  - id: a\n    name: A\n    children:\n"
                            "      - {id: b, name: B}\n")
    flat = parse_codebook("codes:\n  - {id: a, name: A}\n  - {id: b, name: B, parent: a}\n")
    assert nested.codes == flat.codes


def test_csv_codebook_as_taguette_and_qualcoder_keep_them(tmp_path):
    path = write(tmp_path, "name,parent,description\nRelationships,,Trust and partnership\n"
                           "Trust,Relationships,Being believed\nPower sharing,,\n", "tags.csv")
    codebook = load_codebook(path)
    assert [(c.id, c.name, c.parent, c.definition) for c in codebook.codes] == [
        ("relationships", "Relationships", None, "Trust and partnership"),
        ("trust", "Trust", "relationships", "Being believed"),
        ("power_sharing", "Power sharing", None, "")]


def test_csv_codebook_errors_name_rows(tmp_path):
    path = write(tmp_path, "name,parent\nTrust,Relations\nTrust,\n", "tags.csv")
    assert problems(path) == [
        f"{path}:3: code 'Trust' appears twice",
        f"{path}:2: code 'Trust' has parent 'Relations', which is not a code in this file"]
    path = write(tmp_path, "label,description\nTrust,x\n", "nocol.csv")
    assert problems(path) == [f"{path}:1: has no 'name' column (found: label, description)"]


def test_import_then_export_gives_the_same_codebook(coded_project, tmp_path):
    out = tmp_path / "exported.yaml"
    coded_project.export_codebook(out)
    assert load_codebook(out) == load_codebook(CODEBOOK)
    _, changed = coded_project.import_codebook(out)
    assert changed is False  # same content: no new version


def test_new_version_retires_missing_codes_and_keeps_versions(coded_project, tmp_path):
    smaller = write(tmp_path, "codebook: {id: gcph_asset_based, name: Smaller}\n"
                              "codes:\n  - {id: relationships, name: Relationships}\n")
    coded_project.import_codebook(smaller)
    assert [c.id for c in coded_project.codebook().codes] == ["relationships"]
    assert coded_project.summary()["codebook_versions"] == 2
    coded_project.import_codebook(CODEBOOK)
    assert len(coded_project.codebook().codes) == len(load_codebook(CODEBOOK).codes)


def test_lone_surrogates_are_refused_with_line_and_field(tmp_path, coded_project):
    # YAML's "\ud800" escape makes half a UTF-16 pair: it passed validation, then the import
    # failed to encode it (issue 13, item 21). Every one is reported, with its line and field.
    path = write(tmp_path, 'codebook:\n  name: "Book \\udc00"\ncodes:\n'
                           '  - id: a\n    name: "A \\ud800"\n'
                           '    keywords: [fine, "smile \\ud83d\\ude00"]\n'
                           '  - id: b\n    name: B\n    definition: "fine \\U0001F600"\n')
    hint = ("a lone UTF-16 surrogate, half of a character, which cannot be stored; write the "
            "character itself (or \\U0001F600, not \\ud83d\\ude00)")
    assert problems(path) == [f"{path}:2: 'name' holds \"Book \\udc00\", {hint}",
                              f"{path}:5: 'name' of code 'a' holds \"A \\ud800\", {hint}",
                              f"{path}:6: 'keywords' of code 'a' holds "
                              f"\"smile \\ud83d\\ude00\", {hint}"]
    with pytest.raises(CodebookError):
        coded_project.import_codebook(path)
    assert len(coded_project.codebook().codes) == 22  # nothing changed
    fixed = write(tmp_path, 'codes:\n  - id: b\n    name: "B \\U0001F600"\n', "fixed.yaml")
    assert load_codebook(fixed).codes[0].name == "B \U0001F600"


def test_code_id_ending_in_a_line_break_is_refused(tmp_path):
    path = write(tmp_path, "codes:\n  - id: |\n      trust\n    name: Trust\n"
                           "  - id: >\n      care\n    name: Care\n")
    assert problems(path) == [
        f"{path}:2: code id 'trust\\n' ends in a line break (a YAML block scalar such as "
        "'id: |'?); write it on the same line: id: trust",
        f"{path}:5: code id 'care\\n' ends in a line break (a YAML block scalar such as "
        "'id: |'?); write it on the same line: id: care"]
