"""`match` (Python 3.10 syntax) for the error tests, apart so the other helpers load on 3.9."""


def uses_match(x):
    match x:  # <-
        case 0.0:
            return x
        case _:
            return 2.0 * x
