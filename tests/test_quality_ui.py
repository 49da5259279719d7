"""Issue 17 in the app: a transcript marked as coded completely (per coder, logged), and the
Review page's quality panel: the validation gate per code and suggester, a code's suggestions
switched off and on, and the cross-validated evaluation with its learning curve. AppTest on a
copy of the sample study."""

import coding
from test_app import db, displayed, open_app, run, sample_db  # noqa: F401


def test_a_transcript_is_marked_as_coded_completely_by_its_coder(db):
    at = open_app("Transcript")
    with coding.open_project(db) as project:
        first = project.documents()[0].name
    box = at.checkbox(key=f"fully_coded-{first}")
    assert box.label == "I have coded this transcript completely" and not box.value
    at = run(box.check())
    with coding.open_project(db) as project:
        assert project.fully_coded()[["document", "coder"]].values.tolist() == [[first, "Tess"]]
    assert open_app("Transcript", coder="Ula").checkbox(key=f"fully_coded-{first}").value is \
        False  # another coder's mark is theirs
    at = run(at.checkbox(key=f"fully_coded-{first}").uncheck())
    with coding.open_project(db) as project:
        assert project.fully_coded().empty
        assert list(project.events()["action"].iloc[-2:]) == ["fully_coded", "not_fully_coded"]


def test_review_quality_panel_shows_the_gate_switches_codes_and_measures(db):
    at = open_app("Review")
    with coding.open_project(db) as project:
        gate = project.validation(0.5)
        names = {c.id: c.name for c in project.codebook().codes}
    table = at.dataframe[0].value
    assert list(table.columns) == ["code", "suggester", "reviewed", "accepted", "waiting",
                                   "precision", "at least (95 %)", "accept many",
                                   "better than chance", "switched off"]
    assert table["code"].tolist() == [names[c] for c in gate["code"]]
    assert table["waiting"].tolist() == gate["pending"].tolist()
    assert set(table["accept many"]) == {"not yet"}  # nothing reviewed in the sample yet
    with coding.open_project(db) as project:
        shared = project.calibration("sentence")["model+semantic"]["shared"]
    assert any(displayed(c.value).startswith(f"Suggestions by sentence are queued from a score "
                                             f"of {shared:.2f}") for c in at.caption)
    code = gate["code"].iloc[0]
    at = run(at.selectbox(key="switch_code").set_value(code))
    at = run(at.button(key="switch_off").click())
    with coding.open_project(db) as project:
        assert project.suggestions_off() == [code]
    assert "yes" in at.dataframe[0].value.set_index("code").loc[names[code], "switched off"]
    at = run(at.button(key="switch_on").click())
    with coding.open_project(db) as project:
        assert project.suggestions_off() == []
    at = run(at.radio(key="eval_unit").set_value("turn"))
    at = run(at.checkbox(key="eval_complete").check())  # nobody marked a transcript complete
    at = run(at.button(key="evaluate").click())
    assert any("marked 0 document(s) fully coded" in displayed(e.value) for e in at.error)
    at = run(at.checkbox(key="eval_complete").uncheck())
    at = at.button(key="evaluate").click().run(timeout=300)  # cross-validation takes a while
    assert not at.exception
    pooled = at.dataframe[1].value
    assert list(pooled.index) == ["rules", "model", "semantic", "default", "names"]
    assert (pooled["F1 pooled (micro)"] > 0).all()
    assert list(pooled.columns) == ["F1 pooled (micro)", "F1 per code (macro)", "recall",
                                    "kappa"]
    with coding.open_project(db) as project:
        coder = at.selectbox(key="eval_coder").value
        table = project.evaluate(coder, unit="turn")
    expected = table[(table["code"] == "ALL")].set_index("suggester")["f1"].round(3)
    assert pooled["F1 pooled (micro)"].to_dict() == expected.to_dict()
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
