#include "proxy/loading_page.h"

#include <nlohmann/json.hpp>

namespace blockyard::proxy {

// A JSON string literal is also a valid JavaScript string literal; escaping
// '<' keeps "</script>" from ending the script block.
static std::string js_string(const std::string& text) {
  std::string json = nlohmann::json(text).dump();
  std::string out;
  for (char c : json) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

static const char* kStyle = R"(
body{font-family:system-ui,sans-serif;display:flex;align-items:center;justify-content:center;
height:100vh;margin:0;background:#f6f7f9;color:#1f2933}
.box{text-align:center;max-width:36rem;padding:2rem}
.spinner{width:40px;height:40px;margin:0 auto 1.5rem;border:4px solid #d5dae1;
border-top-color:#3b6ea8;border-radius:50%;animation:spin 0.9s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
.error{color:#b42318}
)";

std::string render_loading_page(const std::string& display_name, const std::string& app_path,
                                long long timeout_ms) {
  std::string name = html_escape(display_name);
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  html += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  html += "<title>Starting " + name + " \u2014 blockyard</title><style>";
  html += kStyle;
  html += "</style></head><body><div class=\"box\" id=\"blockyard-loading\">";
  html += "<div class=\"spinner\" id=\"spinner\"></div>";
  html += "<h1>Starting " + name + "</h1>";
  html += "<p id=\"status\">Your session is being prepared\u2026</p></div>";
  html += "<script>(function(){\n";
  html += "var readyUrl=" + js_string(app_path + "__blockyard/ready") + ";\n";
  html += "var timeoutMs=" + std::to_string(timeout_ms) + ";\n";
  html += R"(var started=Date.now();
function fail(message){
  document.getElementById('spinner').style.display='none';
  var s=document.getElementById('status');
  s.className='error';
  s.textContent=message;
}
function poll(){
  fetch(readyUrl,{cache:'no-store',credentials:'same-origin'})
    .then(function(r){return r.json();})
    .then(function(state){
      if(state.ready){location.reload();return;}
      if(state.restart){location.reload();return;}
      if(state.failed){fail('The application failed to start. Please try again later or contact the app\'s publisher.');return;}
      next();
    })
    .catch(next);
}
function next(){
  if(Date.now()-started>timeoutMs){
    fail('The application failed to start. Please try again later or contact an administrator.');
    return;
  }
  setTimeout(poll,250);
}
setTimeout(poll,100);
})();</script></body></html>
)";
  return html;
}

std::string render_error_page(const std::string& title, const std::string& message) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>";
  html += html_escape(title) + " \u2014 blockyard</title><style>";
  html += kStyle;
  html += "</style></head><body><div class=\"box\"><h1 class=\"error\">" + html_escape(title) +
          "</h1><p>" + html_escape(message) + "</p></div></body></html>\n";
  return html;
}

}  // namespace blockyard::proxy
