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
        ("latin1.csv", "a,b\ncaf\u00e9,1\n".encode("latin-1"), "expected UTF-8 text, found byte 0xe9 at line 2, column 4"),
        ("late_latin1.csv", b"a,b\n" + b"x,1\n" * 30000 + "caf\u00e9,1\n".encode("latin-1"),
         "found byte 0xe9 at line 30002, column 4"),
        ("semicolons.csv", b"species;island;mass\nAdelie;Dream;3700\n",
         "expected comma-separated values, found one column named 'species;island;mass': the values are separated by ';'"),
        ("twice.csv", b"bill,mass,bill\n1,2,3\n", "expected each column named once in the header, found 'bill' (columns 1 and 3)"),
        ("nul.csv", b"\0" * 4096, "expected CSV text, found NUL bytes"),
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


def test_a_parquet_file_named_csv_is_named_for_what_it_is(tmp_path, frame):
    path = tmp_path / "data.csv"
    frame.to_parquet(path)
    with pytest.raises(UserError, match="data.csv: expected CSV text, found a Parquet file; name it .parquet"):
        read_table(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match="nothing.csv: file not found"):
        read_table(tmp_path / "nothing.csv")


def test_parquet_and_csv_round_trip(tmp_path, frame):
    for name in ("data.parquet", "data.csv"):
        write_table(frame, tmp_path / "out" / name)
        assert read_table(tmp_path / "out" / name).shape == frame.shape
