from zoombot.cli.main import main

main(prog_name="zoombot")
