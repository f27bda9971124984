"""A script compiled with Cython: run as __main__, its classes pickle."""

import pickle
import sys


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def main():
    p = pickle.loads(pickle.dumps(Point(1, 2)))
    print("CY", __name__, sys.argv[1:], p.x + p.y, type(p).__module__,
          sys.modules["__main__"].__spec__.name)


if __name__ == "__main__":
    main()
