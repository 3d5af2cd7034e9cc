"""The Chalice app: wiring only. The whole HTTP surface is the blueprints below."""

from chalice.app import Chalice

from chalicelib import logs
from chalicelib.api.admin import admin
from chalicelib.api.marketing import marketing
from chalicelib.api.me import me
from chalicelib.api.middleware import access_log
from chalicelib.api.places import places_bp
from chalicelib.api.pos import pos
from chalicelib.api.system import system

logs.configure()

app = Chalice(app_name="loyalty")
app.register_middleware(access_log, "http")

app.register_blueprint(system, url_prefix="/v1")
app.register_blueprint(me, url_prefix="/v1/me")
app.register_blueprint(pos, url_prefix="/v1")
app.register_blueprint(places_bp, url_prefix="/v1")
app.register_blueprint(admin, url_prefix="/v1")
app.register_blueprint(marketing, url_prefix="/v1")
