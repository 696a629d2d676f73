import os

import pytest
import torch

from vgdcn_pyg.io import (TMP_PREFIX, atomic_write, remove_stale_temporaries,
                          save_csv, save_json, save_torch, staged_output_dir)


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


# ------------------------------------------------------------- staged folders
def test_staged_files_appear_together_and_replace_stale_ones(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'metrics.json').write_text('earlier run')
    (out / 'keep.txt').write_text('not ours')
    with staged_output_dir(out, replaces=('metrics.json', 'absent.png')) \
            as stage:
        assert os.path.dirname(stage) == str(out)
        assert os.path.basename(stage).startswith(TMP_PREFIX)
        save_csv(os.path.join(stage, 'labels.csv'), ['a'], [[1]])
        save_json({'a': 1}, os.path.join(stage, 'history.json'))
        # nothing is visible before the block ends
        assert sorted(os.listdir(out)) == sorted(
            ['metrics.json', 'keep.txt', os.path.basename(stage)])
    assert sorted(os.listdir(out)) == ['history.json', 'keep.txt',
                                       'labels.csv']


@pytest.mark.parametrize('error', [RuntimeError('disk gone'),
                                   KeyboardInterrupt()])
def test_failure_inside_staging_leaves_no_folder_and_no_temporary(
        tmp_path, error):
    out = tmp_path / 'new' / 'out'
    with pytest.raises(type(error)):
        with staged_output_dir(out) as stage:
            save_csv(os.path.join(stage, 'labels.csv'), ['a'], [[1]])
            raise error
    assert not out.exists()
    assert os.listdir(tmp_path / 'new') == []


def test_failure_inside_staging_keeps_an_earlier_run(tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'labels.csv').write_text('earlier run')
    with pytest.raises(RuntimeError):
        with staged_output_dir(out, replaces=('labels.csv', )) as stage:
            save_csv(os.path.join(stage, 'labels.csv'), ['a'], [[2]])
            raise RuntimeError('figure failed')
    assert os.listdir(out) == ['labels.csv']
    assert (out / 'labels.csv').read_text() == 'earlier run'


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    remove_stale_temporaries(tmp_path / 'missing')  # no folder: no error
    (tmp_path / f'{TMP_PREFIX}abc-labels.csv').write_text('half')
    (tmp_path / f'{TMP_PREFIX}stage-xyz').mkdir()
    (tmp_path / f'{TMP_PREFIX}stage-xyz' / 'model.pt').write_bytes(b'half')
    (tmp_path / 'labels.csv').write_text('complete')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / f'{TMP_PREFIX}deeper').write_text('not ours')
    remove_stale_temporaries(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ['labels.csv', 'sub']
    assert os.listdir(tmp_path / 'sub') == [f'{TMP_PREFIX}deeper']


def test_a_deferred_signal_arrives_after_the_file_is_complete(tmp_path):
    # As the command line's SIGTERM handler: raise, unless a file is being
    # written, in which case the signal comes again after the write.
    import os
    import signal

    from vgdcn_pyg.io import atomic_write, defer_signal

    class Stop(BaseException):
        pass

    def handler(signum, frame):
        if not defer_signal(signum):
            raise Stop
    previous = signal.signal(signal.SIGUSR1, handler)
    path = tmp_path / 'out.txt'
    written = []
    try:
        with pytest.raises(Stop):
            with atomic_write(path) as f:
                f.write('first half, ')
                os.kill(os.getpid(), signal.SIGUSR1)
                f.write('second half')
                written.append(True)
        assert written == [True]
        assert path.read_text() == 'first half, second half'
        # Outside a write the handler raises at once.
        with pytest.raises(Stop):
            os.kill(os.getpid(), signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
