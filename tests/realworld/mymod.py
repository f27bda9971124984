import sys


def double(n: int) -> int:
    return n * 2


if __name__ == "__main__":
    print("MYPYC", double(21), sys.argv[1:])
