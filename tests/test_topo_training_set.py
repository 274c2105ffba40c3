"""The training circuits a checkpoint's samples are judged novel against (``training_set``): the same set as decoding
every tour, kept per checkpoint content in the process and in the user's cache, rebuilt when the cache is unreadable;
and the JSON form of a :class:`GraphSet` it is kept in."""

from __future__ import annotations

import networkx as nx
import pytest

from eda.generators import topology_checkpoint as tc
from eda.graphs.canon import GraphSet, canonical_form


@pytest.fixture(scope="module")
def specialist():
    return tc.load_checkpoint(tc.checkpoint_for("opamp1"))


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDA_CACHE", str(tmp_path))
    monkeypatch.setattr(tc, "_TRAINING_SETS", {})
    return tmp_path / "novelty"


def test_cached_set_is_the_decoded_set(specialist, cache, monkeypatch):
    _, vocab, ck = specialist
    graphs = tc.training_graphs(ck, vocab)
    decoded = GraphSet(graphs)
    first = tc.training_set(ck, vocab)
    assert first.forms == decoded.forms and len(first) == len(decoded) > 500
    (f,) = cache.glob("training-forms-v*.json")

    def no_decode(*_):
        raise AssertionError("decoded again")

    monkeypatch.setattr(tc, "training_graphs", no_decode)
    assert tc.training_set(ck, vocab) is first  # the process keeps it
    monkeypatch.setattr(tc, "_TRAINING_SETS", {})
    again = tc.training_set(ck, vocab)  # a new process reads the file
    assert again is not first and again.forms == decoded.forms
    # another checkpoint (different tours) does not take this one's set
    other = dict(ck, train_offsets=ck["train_offsets"][:-1])
    with pytest.raises(AssertionError, match="decoded again"):
        tc.training_set(other, vocab)
    # an unreadable cache file is rebuilt, not trusted
    monkeypatch.setattr(tc, "training_graphs", lambda c, v: graphs[:1])
    monkeypatch.setattr(tc, "_TRAINING_SETS", {})
    f.write_text('[["NM_G NM", [0, "x"]]')
    rebuilt = tc.training_set(ck, vocab)
    assert len(rebuilt) == 1 and GraphSet.from_json(f.read_text()).forms == rebuilt.forms


def test_graph_set_json_round_trip(specialist):
    _, vocab, ck = specialist
    graphs = tc.training_graphs(ck, vocab)[:20]
    s = GraphSet(graphs)
    back = GraphSet.from_json(s.to_json())
    assert back.forms == s.forms and all(g in back for g in graphs) and canonical_form(graphs[0]) in back.forms
    empty = GraphSet([nx.Graph()])  # a form with no labels reads back as none, not as one empty label
    assert GraphSet.from_json(empty.to_json()).forms == empty.forms == {((), ())}
    for junk in ("{}", "[1]", '[["NM", [0]]]', '[["NM", [0, "a"]]]', "not json"):
        with pytest.raises(ValueError):
            GraphSet.from_json(junk)
    spaced = GraphSet()
    spaced.forms.add((("A B",), ()))
    with pytest.raises(ValueError, match="space"):
        spaced.to_json()


def test_a_cache_that_cannot_be_made_costs_only_the_decode(specialist, tmp_path, monkeypatch):
    """EDA_CACHE on a file (no folder can be made there): the set is still built, and the run goes on."""
    _, vocab, ck = specialist
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EDA_CACHE", str(blocker))
    monkeypatch.setattr(tc, "_TRAINING_SETS", {})
    got = tc.training_set(ck, vocab)
    assert len(got) > 500 and blocker.read_text() == "not a folder"
