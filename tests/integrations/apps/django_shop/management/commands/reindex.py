import logging

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Rebuild the search index (fails, for the tests)"

    def add_arguments(self, parser):
        parser.add_argument("--refuse", action="store_true")

    def handle(self, *args, **options):
        if options["refuse"]:
            raise CommandError("refusing to reindex")
        logging.getLogger("shop.jobs").error("index shard 3 is corrupt")
        raise RuntimeError("index broken")
