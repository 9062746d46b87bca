"""Evaluating a model (a retrain's quality gate, the benchmarks) does not print what it parses."""

from pathlib import Path

import pytest

from bot.evaluation import model_parser


@pytest.mark.slow
def test_parsing_held_out_questions_writes_none_of_them_out(trained_model: Path, capfd) -> None:
    parse = model_parser(trained_model)
    capfd.readouterr()
    assert parse("kiểm tra đơn DH123456 giúp mình, sdt 0912345678")["intent"]["name"]
    printed = capfd.readouterr()
    assert "0912345678" not in printed.out + printed.err
    assert "DH123456" not in printed.out + printed.err
