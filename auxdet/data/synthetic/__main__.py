"""``python -m auxdet.data.synthetic``: see :func:`auxdet.data.synthetic.dataset.main`."""

from auxdet.data.synthetic.dataset import main

if __name__ == "__main__":
    main()
