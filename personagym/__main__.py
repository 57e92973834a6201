"""`python -m personagym`: the `personagym` command, for an environment whose console script is missing or
points at another checkout."""

from personagym.cli import main

if __name__ == "__main__":
    main()
