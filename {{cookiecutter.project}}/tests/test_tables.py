import pytest

from {{ cookiecutter.package }}.errors import UserError
from {{ cookiecutter.package }}.data.tables import read_table, write_table


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"a,b\n", "expected data rows, found only a header"),
        ("ragged.csv", b"a,b\n1,2\n3,4,5,6\n", "malformed CSV"),
        ("quotes.csv", b"a,b\n1,2\n\"an unbalanced quote,3\n", "malformed CSV"),
        ("latin1.csv", "a,b\ncaf\u00e9,1\n".encode("latin-1"), "expected UTF-8 text, found byte 0xe9"),
        ("fake.parquet", b"a,b\n1,2\n", "unreadable parquet file"),
        ("data.xlsx", b"PK", "expected a .csv or .parquet file, found a '.xlsx' file"),
    ],
)
def test_an_unreadable_file_gives_one_line_naming_it(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError) as error:
        read_table(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match="nothing.csv: file not found"):
        read_table(tmp_path / "nothing.csv")


def test_parquet_and_csv_round_trip(tmp_path, frame):
    for name in ("data.parquet", "data.csv"):
        write_table(frame, tmp_path / "out" / name)
        assert read_table(tmp_path / "out" / name).shape == frame.shape
