import{A as e,n}from"./index-B4MUg3pV.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
