"""The coding app: `coding app PROJECT`, or `streamlit run app.py -- PROJECT`."""

from coding.ui.main import main

main()
