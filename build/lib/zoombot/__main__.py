from zoombot.cli import main

main(prog_name="zoombot")
