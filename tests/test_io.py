import os

import pytest
import torch

from vgdcn_pyg.io import atomic_write, save_csv, save_json, save_torch


def test_failure_mid_write_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / 'labels.csv'
    save_csv(path, ['a'], [[1], [2]])
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_write(path) as f:
            f.write('half of a new fi')
            raise RuntimeError('disk gone')
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['labels.csv']


def test_interrupt_mid_write_leaves_nothing_new(tmp_path):
    # KeyboardInterrupt (and the CLI's SIGTERM exception) is no Exception,
    # yet the temporary file is removed.
    path = tmp_path / 'sub' / 'model.pt'

    class Unpicklable:
        def __reduce__(self):
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        save_torch({'w': torch.ones(1000), 'x': Unpicklable()}, path)
    assert os.listdir(tmp_path / 'sub') == []


def test_complete_files_and_usual_permissions(tmp_path):
    save_json({'b': 1, 'a': [1, 2]}, tmp_path / 'm.json')
    assert (tmp_path / 'm.json').read_text() == \
        '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / 'm.json').stat().st_mode & 0o777 == 0o666 & ~umask
